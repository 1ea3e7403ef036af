"""Faults (issue 11, "Faults, in CI"): every route, against a dead Redis, a dead broker and a
PostgreSQL whose connections are terminated mid-request. No 500, the documented degraded
answer, and recovery. The routes come from the URL resolver, so a new one is covered.

Bounded: one pass over the routes per fault, connect timeouts of 0.2 s, a 2 s wait per kill.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from raxx.tests.helpers import dead_redis_caches, free_port
from conftest import token_for
from flags.registry import FLAGS

ORDER = {"symbol": "AAPL", "side": "buy", "quantity": "1", "entry_price": "10"}
CLOSE = {"symbol": "AAPL", "asset_type": "equity", "quantity": "1", "cost_basis": "100", "close_price": "110",
         "closed_at": "2026-11-20T20:00:00Z"}
PERSONA = {"experience": "1_to_3", "account_type": "taxable", "structures_used": "spreads"}
BODIES = {  # a body each write route accepts, so the faults meet the write paths too
    "paper-orders": {**ORDER, "pre_label": "Bearish"},
    "paper-order-close": {"exit_price": "11"},
    "sentiment-labels": {"trade_id": "{order}", "pre_label": "Bullish"},
    "sentiment-label-detail": {"post_label": "Bullish", "journal_note": "held"},
    "wcb-close-position": CLOSE,
    "wcb-settings": {"tracking_horizon": "close_of_market_only"},
    "walkthrough-screen1": {"answers": PERSONA, "track": "full", "intent_bucket": "income"},
    "walkthrough-intent": {"intent_bucket": "income"},
    "walkthrough-screen3": {"legs": []},
    "walkthrough-screen5": {"answers": {"structure_clear": 4}},
}
TIME_BUDGET_S = 240



def json_routes() -> list[tuple[str, str | None, object]]:
    """(route pattern, url name, view callback) for /healthz and everything under /api."""
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if route == "healthz" or route.startswith("api/"):
                    found.append((route, p.name, p.callback))

    walk(get_resolver().url_patterns)
    return found


def methods_of(callback) -> list[str]:
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is None:
        return ["get"]
    return [m for m in ("get", "post", "patch", "put", "delete") if hasattr(view_class, m)]


def is_walkthrough(callback) -> bool:
    return getattr(callback, "cls", None) is not None and callback.cls.__module__.startswith("walkthrough.")


class World:
    """One customer and one tester with a row of everything a route can name."""

    def __init__(self, customer):
        from journal.models import PaperOrder
        from walkthrough.services import program_get_or_create, walkthrough_invite

        self.customer = customer
        self.api = APIClient()
        self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(customer)}")
        self.order = self.api.post("/api/paper-orders", {**ORDER, "pre_label": "Bullish"}, format="json").json()
        self.order_id = self.order["order"]["id"]
        self.label_id = (self.order.get("sentiment_label") or {}).get("id") or 1
        self.position = self.api.post("/api/trading/close-position", CLOSE, format="json").json()
        self.position_id = self.position.get("position_id") or self.position.get("id") or "missing"
        program = program_get_or_create(name="faults", ends_on=timezone.now().date() + timedelta(days=30))
        token = walkthrough_invite(email="faults@example.test", program=program).token
        self.tester = APIClient()
        self.tester.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert PaperOrder.objects.filter(pk=self.order_id).exists()

    def url(self, route: str) -> str:
        return "/" + (route.replace("<int:order_id>", str(self.order_id)).replace("<int:label_id>", str(self.label_id))
                      .replace("<str:position_id>", str(self.position_id))
                      .replace("<uuid:id>", "00000000-0000-4000-8000-000000000000"))  # a merge request: 404 is an answer

    def requests(self):
        for route, name, callback in json_routes():
            assert "<" not in self.url(route), f"no value for a parameter of {route}: add it to World.url"
            client = self.tester if is_walkthrough(callback) else self.api
            for method in methods_of(callback):
                body = BODIES.get(name, {}) if method != "get" else None
                if body and body.get("trade_id") == "{order}":
                    body = {**body, "trade_id": self.order_id}
                yield f"{method.upper()} {self.url(route)}", (lambda c=client, m=method, u=self.url(route), b=body:
                                                               getattr(c, m)(u, b, format="json") if b is not None
                                                               else getattr(c, m)(u))


@pytest.fixture
def world(customer, flags):
    for name in FLAGS:
        flags.on(name)
    return World(customer)


def assert_no_500(answers: dict[str, object]):
    bad = {what: (r.status_code, r.content[:120]) for what, r in answers.items()
           if r.status_code >= 500 and r.status_code != 503}
    assert not bad, bad
    for what, r in answers.items():
        assert "json" in r["Content-Type"] or what.startswith("GET /api/docs"), what


@pytest.mark.django_db
def test_every_route_with_redis_down(world):
    started = time.monotonic()
    dead = dead_redis_caches()
    with override_settings(CACHES=dead):
        answers = {what: send() for what, send in world.requests()}
        health = world.api.get("/healthz")
    assert_no_500(answers)
    assert not any(r.status_code == 503 for r in answers.values()), "Redis down must not refuse requests"
    assert health.status_code == 200 and health.json()["cache"] is False and health.json()["database"] is True
    assert len(answers) >= 20
    # Recovery: the cache is back, everything answers as before.
    assert world.api.get("/healthz").json()["cache"] is True
    assert world.api.get("/api/me").status_code == 200
    assert time.monotonic() - started < TIME_BUDGET_S


@pytest.mark.django_db
def test_every_route_with_the_broker_down(world):
    from raxx.celery import app

    started = time.monotonic()
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = f"amqp://guest:guest@127.0.0.1:{free_port()}//", False
    try:
        with override_settings(CELERY_BROKER_URL=app.conf.broker_url, CELERY_TASK_ALWAYS_EAGER=False):
            answers = {what: send() for what, send in world.requests()}
            health = world.api.get("/healthz")
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
    assert_no_500(answers)
    assert not any(r.status_code == 503 for r in answers.values())
    assert health.status_code == 200 and health.json()["broker"] is False
    assert world.api.get("/api/me").status_code == 200
    assert time.monotonic() - started < TIME_BUDGET_S


class Killer:
    """Terminates this connection's PostgreSQL backend just before its n-th query of a request."""

    def __init__(self, at_query: int):
        self.at_query, self.seen, self.killed = at_query, 0, False

    def __call__(self, execute, sql, params, many, context):
        self.seen += 1
        if self.seen == self.at_query and not self.killed:
            self.killed = True
            terminate(connection.connection.info.backend_pid)
        return execute(sql, params, many, context)


def terminate(pid: int) -> None:
    import psycopg

    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"] or None, port=s["PORT"] or None, user=s["USER"], password=s["PASSWORD"] or None,
                         dbname=s["NAME"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):  # up to 2 s for the backend to go
            if admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() is None:
                return
            time.sleep(0.02)


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_route_with_its_database_connection_terminated_mid_request(world):
    """Killed at the request's first query and at its last one (the write, for write routes):
    503 database_unavailable with Retry-After, and the next request recovers."""
    started = time.monotonic()
    refused, served = [], 0
    for what, send in list(world.requests()):
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            send()
        for at in sorted({1, counter.count}) if counter.count else []:
            killer = Killer(at)
            with connection.execute_wrapper(killer):
                response = send()
            assert killer.killed or at > 1, what  # a repeated write may stop earlier (an order closed once)
            assert response.status_code < 500 or response.status_code == 503, (what, at, response.content[:200])
            if response.status_code == 503:
                refused.append(what)
                if not what.startswith("GET /healthz"):
                    assert response.json() == {"error": "database_unavailable"}, what
                    assert int(response["Retry-After"]) >= 1
            after = send()  # recovery on the very next request, no restart
            assert after.status_code < 500, (what, "after the kill", after.content[:200])
            served += 1
    assert refused, "no kill reached a request"
    assert served >= 20
    assert time.monotonic() - started < TIME_BUDGET_S


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_all_backends_terminated_between_requests_recover_without_a_500(world):
    """An operator (or a failover) kills every connection: the next requests reconnect."""
    terminate(connection.connection.info.backend_pid) if connection.connection else None
    answers = {what: send() for what, send in world.requests()}
    assert_no_500(answers)
    assert world.api.get("/api/me").status_code == 200


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_killed_mid_request_with_an_idempotency_key_can_be_retried(world):
    """The claim is released on a fresh connection: the client's retry with the same key runs the write once."""
    from journal.models import PaperOrder
    from raxx.models import IdempotencyKey

    body = BODIES["paper-orders"]
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        assert world.api.post("/api/paper-orders", body, format="json", HTTP_IDEMPOTENCY_KEY="probe").status_code == 201
    before = PaperOrder.objects.count()
    killer = Killer(counter.count - 1)  # inside the write, after the claim
    with connection.execute_wrapper(killer):
        refused = world.api.post("/api/paper-orders", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert killer.killed and refused.status_code == 503
    assert PaperOrder.objects.count() == before
    assert not IdempotencyKey.objects.filter(key="retry-me").exists()  # released on a fresh connection
    retried = world.api.post("/api/paper-orders", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert retried.status_code == 201 and PaperOrder.objects.count() == before + 1
