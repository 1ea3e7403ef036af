"""Structured logs and request ids (CONTRACTS §11): JSON lines, X-Request-ID, Celery, nothing secret."""

import io
import json
import logging
from contextlib import contextmanager, redirect_stdout
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command

from raxx.celery import app as raxx_app
from raxx.logs import ContextFilter, JsonFormatter, logging_config, request_id_var
from raxx.tokens import issue_dev_token
from wcb.tests.conftest import market  # noqa: F401  (the WCB tests' market-data fixture)

pytestmark = pytest.mark.django_db

NOTE = "my secret journal note about a fear of missing out 7c1f"
TESTER_EMAIL = "beta-tester-4417@example.test"


@contextmanager
def json_logs():
    """Everything the process logs at INFO and above, formatted as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    loggers = [logging.getLogger(name) for name in ("", "django", "django.request", "django.server")]
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.INFO)
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield stream
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        root.setLevel(old_level)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# --- the format --------------------------------------------------------------------------

def test_production_defaults_to_json_and_plain_stays_for_development():
    assert logging_config(fmt="json", level="INFO")["handlers"]["console"]["formatter"] == "json"
    assert logging_config(fmt="plain", level="INFO")["handlers"]["console"]["formatter"] == "plain"


def test_each_request_writes_one_json_line_with_its_id_route_status_and_duration(client):
    with json_logs() as stream:
        response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-probe-42")
    access = [entry for entry in lines(stream) if entry["logger"] == "raxx.request"]
    assert len(access) == 1
    entry = access[0]
    assert entry["request_id"] == "lb-probe-42" == response["X-Request-ID"]
    assert (entry["route"], entry["status"], entry["level"], entry["method"]) == ("healthz", 200, "INFO", "GET")
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert datetime.fromisoformat(entry["timestamp"]).tzinfo is not None
    assert entry["message"] == "GET healthz 200"


def test_lines_logged_inside_a_view_carry_the_request_id_and_route(api, flags):
    flags.on("FLAG_SENTIMENT_JOURNAL")
    with json_logs() as stream:
        response = api.post("/api/paper-orders", {"symbol": "ACME", "side": "buy", "quantity": "1",
                                                  "entry_price": "10", "pre_label": "Bullish"}, format="json")
    assert response.status_code == 201
    service = [e for e in lines(stream) if e["logger"] == "journal.services"]
    assert service and service[0]["request_id"] == response["X-Request-ID"]
    assert service[0]["route"] == "paper-orders"


def test_the_formatter_filters_tokens_and_emails_out_of_messages_and_tracebacks():
    token = issue_dev_token(sub="11111111-1111-4111-8111-111111111111", tier="pro", ttl_seconds=60)
    with json_logs() as stream:
        logger = logging.getLogger("raxx.tests.leaky")
        logger.warning("header was Bearer %s for %s", token, "someone@example.test")
        try:
            raise ValueError(f"bad token {token}")
        except ValueError:
            logger.exception("failed")
    text = stream.getvalue()
    assert token not in text and "someone@example.test" not in text
    assert text.count("[Filtered]") >= 3


# --- X-Request-ID ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/healthz", "/api/me", "/api/no-such-route", "/admin/login/", "/metrics"])
def test_every_response_carries_a_request_id(client, path):
    response = client.get(path)
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.parametrize("incoming", ["abc-123", "x" * 128, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"])
def test_a_well_formed_incoming_id_is_echoed(client, incoming):
    assert client.get("/healthz", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"] == incoming


@pytest.mark.parametrize("incoming", ["x" * 129, "has space", "tab\there", "caf\u00e9", "", "new\nline",
                                      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "me@example.test"])
def test_a_malformed_incoming_id_is_replaced(client, incoming):
    echoed = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"]
    assert echoed != incoming and len(echoed) == 32


def test_each_request_gets_its_own_id(client):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


# --- Celery: the id travels in the task headers ------------------------------------------

def test_a_task_started_by_a_request_logs_with_that_requests_id():
    """A real worker (in a thread) on an in-memory broker: only the message headers link them."""
    app = Celery("raxx_logs_test", broker="memory://", backend="cache+memory://", set_as_current=False)
    app.conf.update(task_always_eager=False, task_serializer="json", accept_content=["json"],
                    worker_hijack_root_logger=False)
    seen = {}

    @app.task(name="raxx.tests.log_probe")
    def log_probe():
        logging.getLogger("raxx.tests.task").info("inside the task")
        from raxx.logs import job_var, run_id_var

        seen.update(request_id=request_id_var.get(), job=job_var.get(), run_id=run_id_var.get())
        return True

    try:  # The worker sets logging up as it starts: listen after that.
        with start_worker(app, pool="solo", perform_ping_check=False), json_logs() as stream:
            token = request_id_var.set("req-from-the-api-9")
            try:
                result = log_probe.delay()
            finally:
                request_id_var.reset(token)
            assert result.get(timeout=20) is True
    finally:  # start_worker made the test app the current one: give the project's back
        raxx_app.set_current()
        raxx_app.set_default()
    assert seen == {"request_id": "req-from-the-api-9", "job": "raxx.tests.log_probe", "run_id": result.id}
    inside = [e for e in lines(stream) if e["logger"] == "raxx.tests.task"]
    assert inside and inside[0]["request_id"] == "req-from-the-api-9"
    assert inside[0]["job"] == "raxx.tests.log_probe" and inside[0]["run_id"] == result.id


def test_a_beat_run_logs_its_job_name_and_run_id():
    from journal.tasks import lock_sentiment_labels

    with json_logs() as stream:
        result = lock_sentiment_labels.apply(headers={"periodic_task_name": "journal: lock sentiment labels"})
    trace = [e for e in lines(stream) if e["logger"] == "celery.app.trace"]
    assert trace and trace[0]["job"] == "journal: lock sentiment labels" and trace[0]["run_id"] == result.id


# --- a full flow, scanned ------------------------------------------------------------------

def test_a_full_flow_logs_no_token_note_or_email(client, api_for, customer, flags, market):
    for name in ("FLAG_SENTIMENT_JOURNAL", "FLAG_WCB_ENABLED"):
        flags.on(name)
    api = api_for(customer, "pro_plus")
    secrets = [customer.email, TESTER_EMAIL, NOTE, api._credentials["HTTP_AUTHORIZATION"].split()[1]]

    with json_logs() as stream:
        # Orders and labels with notes
        created = api.post("/api/paper-orders", {"symbol": "ACME", "side": "buy", "quantity": "2",
                                                 "entry_price": "10", "pre_label": "Bullish"}, format="json")
        assert created.status_code == 201
        order, label = created.json()["order"], created.json()["sentiment_label"]
        assert api.post(f"/api/paper-orders/{order['id']}/close", {"exit_price": "12"}, format="json").status_code == 200
        patched = api.patch(f"/api/sentiment-labels/{label['id']}", {"journal_note": NOTE, "post_label": "Disciplined"},
                            format="json")
        assert patched.status_code in (200, 400), patched.content
        api.patch(f"/api/sentiment-labels/{label['id']}", {"journal_note": NOTE}, format="json")
        api.patch(f"/api/sentiment-labels/{label['id']}", {"journal_note": NOTE + "x" * 2001}, format="json")  # 400
        assert api.get(f"/api/sentiment-labels/{label['id']}").status_code == 200
        api.get("/api/backtest/sentiment-filter?pre_label=Bullish")
        # WCB
        closed = api.post("/api/trading/close-position", {
            "symbol": "ACME", "asset_type": "equity", "quantity": "10", "cost_basis": "90", "close_price": "110",
            "closed_at": "2026-04-15T18:00:00Z"}, format="json")
        assert closed.status_code == 201, closed.content
        with redirect_stdout(io.StringIO()):
            call_command("wcb_run", "eod", "--as-of", "2026-04-16")
        assert api.get(f"/api/positions/{closed.json()['position_id']}/what-could-have-been").status_code == 200
        # Walkthrough
        out = io.StringIO()
        call_command("walkthrough_invite", TESTER_EMAIL, stdout=out)
        wt_token = out.getvalue().strip().splitlines()[-1]
        secrets.append(wt_token)
        assert client.get("/api/walkthrough/status", HTTP_AUTHORIZATION=f"Bearer {wt_token}").status_code == 200
        client.post("/api/walkthrough/screen/1", {"answers": {"goal": "income"}}, content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {wt_token}")
        assert client.get("/api/walkthrough/status", HTTP_AUTHORIZATION=f"Bearer {wt_token}x").status_code == 401
        # Failing auth: a forged, an expired and a garbage token
        forged = secrets[3][:-4] + "AAAA"
        expired = issue_dev_token(sub=str(customer.id), tier="pro", ttl_seconds=-60)
        secrets += [forged, expired]
        for bad in (forged, expired, "not-a-jwt-at-all-0123456789"):
            assert client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {bad}").status_code == 401
        # Accounts
        call_command("dsr_export", "--user", str(customer.id), stdout=io.StringIO())

    entries = lines(stream)  # every line is one JSON object
    assert len([e for e in entries if e["logger"] == "raxx.request"]) >= 14
    text = stream.getvalue()
    for secret in secrets:
        assert secret not in text, secret[:20]
    assert "not-a-jwt-at-all-0123456789" not in text or "Bearer not-a-jwt" not in text
    for entry in entries:
        assert {"timestamp", "level", "logger", "message", "request_id"} <= set(entry)


def test_a_stale_job_error_line_is_json_with_the_job_name():
    from raxx.jobs import job_health
    from raxx.models import JobRunRecord

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    JobRunRecord.objects.filter(task="walkthrough.tasks.walkthrough_purge").update(
        tracked_since=now - timedelta(days=5), last_success=now - timedelta(days=2), alerted_for=None)
    with json_logs() as stream:
        job_health(now=now)
    errors = [e for e in lines(stream) if e["level"] == "ERROR" and e.get("job") == "walkthrough-purge"]
    assert len(errors) == 1 and errors[0]["logger"] == "raxx.jobs"
