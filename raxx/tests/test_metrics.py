"""GET /metrics (CONTRACTS §11): who may scrape it, what it counts, and that no label names a customer."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import path
from prometheus_client import REGISTRY
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from raxx.tests.probe_urls import urlpatterns as probe_urlpatterns
from wcb.tests.conftest import market  # noqa: F401  (the WCB tests' market-data fixture)

ROOT = Path(__file__).resolve().parents[2]
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")


def close_acme(customer):
    from wcb.services import closed_position_record

    return closed_position_record(
        customer=customer, tier="pro_plus", symbol="ACME", asset_type="equity", quantity=Decimal("10"),
        cost_basis=Decimal("90"), close_price=Decimal("110"), close_commission=Decimal("1"), multiplier=1,
        closed_at=datetime(2026, 4, 15, 18, 0, tzinfo=UTC))


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class OnePerMinute(AnonRateThrottle):
    rate = "1/min"


class Throttled(APIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = [OnePerMinute]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [*probe_urlpatterns, path("api/probe/throttled", Throttled.as_view(), name="probe-throttled")]


# --- access ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_metrics_answer_loopback_in_prometheus_text_format(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "# TYPE raxx_http_request_duration_seconds histogram" in text
    assert 'raxx_http_request_duration_seconds_count{method="GET",route="healthz",status="200"}' in text
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["203.0.113.5", "10.0.0.7", "::ffff:198.51.100.1", "not-an-ip", ""])
def test_metrics_are_404_json_for_other_addresses(client, address):
    response = client.get("/metrics", REMOTE_ADDR=address)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found"}


@pytest.mark.django_db
def test_forwarded_headers_do_not_open_metrics(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.status_code == 404


@pytest.mark.django_db
def test_allowed_cidrs_are_a_setting(client, settings):
    settings.METRICS_ALLOWED_CIDRS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


# --- what is counted -----------------------------------------------------------------------

@pytest.mark.django_db
def test_latency_is_labelled_by_route_name_and_status(client, api, customer):
    before = sample("raxx_http_request_duration_seconds_count", route="me", method="GET", status="200")
    unauth = sample("raxx_http_request_duration_seconds_count", route="me", method="GET", status="401")
    api.get("/api/me")
    client.get("/api/me")
    assert sample("raxx_http_request_duration_seconds_count", route="me", method="GET", status="200") == before + 1
    assert sample("raxx_http_request_duration_seconds_count", route="me", method="GET", status="401") == unauth + 1
    unmatched = sample("raxx_http_request_duration_seconds_count", route="unmatched", method="GET", status="404")
    client.get(f"/api/no-such-route/{customer.id}")
    assert sample("raxx_http_request_duration_seconds_count", route="unmatched", method="GET",
                  status="404") == unmatched + 1


@pytest.mark.django_db
@pytest.mark.urls("raxx.tests.test_metrics")
def test_rate_limit_refusals_are_counted_whatever_the_throttle_class(client):
    before = sample("raxx_rate_limited_total", route="probe-throttled")
    assert client.get("/api/probe/throttled").status_code == 200
    refused = client.get("/api/probe/throttled")
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert sample("raxx_rate_limited_total", route="probe-throttled") == before + 1


@pytest.mark.django_db
def test_job_runs_are_counted_by_job_and_outcome():
    from journal.tasks import lock_sentiment_labels

    before = sample("raxx_job_runs_total", job="journal.tasks.lock_sentiment_labels", outcome="success")
    lock_sentiment_labels.delay()
    assert sample("raxx_job_runs_total", job="journal.tasks.lock_sentiment_labels", outcome="success") == before + 1


@pytest.mark.django_db
def test_wcb_rows_finalized_and_the_last_runs_counts(client, customer, market):
    before = sample("raxx_wcb_rows_total", job="eod", outcome="finalized")
    for _ in range(3):
        close_acme(customer)
    call_command("wcb_run", "eod", "--as-of", date(2026, 4, 16).isoformat())
    assert sample("raxx_wcb_rows_total", job="eod", outcome="finalized") == before + 3
    text = client.get("/metrics").content.decode()
    assert 'raxx_wcb_last_run_rows{job="eod",state="finalized"} 3.0' in text
    assert 'raxx_wcb_last_run_rows{job="eod",state="pending"} 0.0' in text


@pytest.mark.django_db
def test_trajectory_and_flag_cache_hits_and_misses(api, customer, flags, market):
    flags.on("FLAG_WCB_ENABLED")
    position = close_acme(customer)
    call_command("wcb_run", "eod", "--as-of", "2026-04-16")
    hits = sample("raxx_cache_requests_total", cache="wcb_trajectory", result="hit")
    misses = sample("raxx_cache_requests_total", cache="wcb_trajectory", result="miss")
    flag_reads = sum(sample("raxx_cache_requests_total", cache="flags", result=r) for r in ("hit", "miss"))
    url = f"/api/positions/{position.pk}/what-could-have-been"
    assert api.get(url).status_code == 200
    assert api.get(url).status_code == 200
    assert sample("raxx_cache_requests_total", cache="wcb_trajectory", result="miss") == misses + 1
    assert sample("raxx_cache_requests_total", cache="wcb_trajectory", result="hit") == hits + 1
    assert sum(sample("raxx_cache_requests_total", cache="flags", result=r) for r in ("hit", "miss")) > flag_reads
    assert sample("raxx_cache_requests_total", cache="flags", result="hit") > 0


@pytest.mark.django_db
def test_merges_and_dsr_are_counted(customer, other_customer):
    from raxx.dsr import erase_customer, export_customer
    from raxx.merge import merge_accounts

    before = {op: sample("raxx_account_operations_total", operation=op) for op in ("merge", "dsr_export", "dsr_erase")}
    export_customer(customer_id=customer.id)
    merge_accounts(primary_id=customer.id, secondary_id=other_customer.id, without_consent_reason="test: counted")
    erase_customer(customer_id=customer.id)
    for op in ("merge", "dsr_export", "dsr_erase"):
        assert sample("raxx_account_operations_total", operation=op) == before[op] + 1


@pytest.mark.django_db
def test_no_customer_id_position_id_or_email_in_any_label(client, api, customer, flags, market):
    flags.on("FLAG_WCB_ENABLED")
    flags.on("FLAG_SENTIMENT_JOURNAL")
    order = api.post("/api/paper-orders", {"symbol": "ACME", "side": "buy", "quantity": "1", "entry_price": "10",
                                           "pre_label": "Bullish"}, format="json").json()["order"]
    api.post(f"/api/paper-orders/{order['id']}/close", {"exit_price": "11"}, format="json")
    api.get(f"/api/paper-orders/{order['id']}")
    position = close_acme(customer)
    api.get(f"/api/positions/{position.pk}/what-could-have-been")
    api.get(f"/api/positions/{customer.id}/what-could-have-been")
    text = client.get("/metrics").content.decode()
    labels = " ".join(re.findall(r"\{([^}]*)\}", text))
    assert not UUID_RE.search(labels), UUID_RE.search(labels)
    assert customer.email not in text and str(customer.id) not in text
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert {"paper-orders", "paper-order-close", "paper-order-detail", "wcb-render"} <= routes  # names, not paths
    assert not any("/" in r or r.isdigit() for r in routes), routes


# --- several processes: gunicorn with 2 workers -------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_metrics_add_up_across_two_gunicorn_workers(tmp_path):
    """Every worker's counts reach /metrics, whichever worker answers the scrape (PROMETHEUS_MULTIPROC_DIR)."""
    prom = tmp_path / "prom"
    prom.mkdir()
    (prom / "counter_999999999.db").write_bytes(b"")  # a previous run's dead process: cleared at start
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PYTEST"))}
    env.update(DJANGO_SETTINGS_MODULE="raxx.settings", DJANGO_DEBUG="1", LOG_FORMAT="json",
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", CELERY_BROKER_URL="memory://",
               PROMETHEUS_MULTIPROC_DIR=str(prom), THROTTLE_ANONYMOUS="100000/min")  # 80 unauthenticated requests
    log = open(tmp_path / "gunicorn.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:raxx.gunicorn_conf", "raxx.wsgi", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--timeout", "30"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(base + "/healthz")[0] == 200:  # not the counted route: a timed-out probe may land late
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not come up"
            assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.3)
        total, pids = 0, set()
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(25):  # rounds of 80 until both workers have answered (the second may still be booting)
                statuses = list(pool.map(lambda _: _get(base + "/api/me")[0], range(80)))
                assert statuses == [401] * 80
                total += 80
                pids = {int(m.group(1)) for f in prom.glob("*.db") if (m := re.search(r"_(\d+)\.db$", f.name))}
                if len(pids) >= 2:
                    break
                time.sleep(0.2)
        assert 999999999 not in pids
        assert len(pids) >= 2, pids  # both workers wrote their counts
        line = f'raxx_http_request_duration_seconds_count{{method="GET",route="me",status="401"}} {float(total)}'
        for _ in range(4):  # whichever worker answers the scrape
            status, text = _get(base + "/metrics")
            assert status == 200 and line in text, text[:2000]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
    lines = [json.loads(x) for x in (tmp_path / "gunicorn.log").read_text().splitlines()
             if x.startswith("{") and '"raxx.request"' in x]
    assert len([e for e in lines if e.get("route") == "me"]) == total
    assert all(entry["request_id"] and entry["route"] == "me" for entry in lines if entry.get("status") == 401)
