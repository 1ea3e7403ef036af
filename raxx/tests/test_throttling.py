"""Rate limits (CONTRACTS §10): 429 rate_limited with Retry-After; served when the cache is down."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from raxx.tests.helpers import dead_redis_caches, redis_writes
from conftest import make_customer, token_for

pytestmark = pytest.mark.django_db
ORDER = {"symbol": "AAPL", "side": "buy", "quantity": "1", "entry_price": "10"}


def assert_limited(response):
    assert response.status_code == 429, response.content[:200]
    assert response.json()["error"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Content-Type"].startswith("application/json")



@override_settings(THROTTLE_CUSTOMER="5/min")
def test_throttle_customer_limits_every_customer_route_per_customer(api, other_api):
    paths = ["/api/me", "/api/paper-orders", "/api/account/settings/wcb", "/api/me", "/api/paper-orders"]
    assert [api.get(p).status_code for p in paths] == [200] * 5
    assert_limited(api.get("/api/me"))
    assert_limited(api.post("/api/paper-orders", ORDER, format="json"))
    assert other_api.get("/api/me").status_code == 200  # per customer


@override_settings(THROTTLE_CUSTOMER_WRITES="3/min")
def test_throttle_customer_writes_limits_posts_and_patches(api, customer):
    from journal.models import PaperOrder

    assert [api.post("/api/paper-orders", ORDER, format="json").status_code for _ in range(3)] == [201] * 3
    assert_limited(api.post("/api/paper-orders", ORDER, format="json"))
    assert_limited(api.patch("/api/account/settings/wcb", {"tracking_horizon": "close_of_market_only"}, format="json"))
    assert PaperOrder.objects.filter(customer=customer).count() == 3  # the refused write did not happen
    assert api.get("/api/paper-orders").status_code == 200  # reads have their own budget


@override_settings(THROTTLE_ANONYMOUS="4/min")
def test_throttle_anonymous_limits_failed_authentication_per_address(customer):
    bad = APIClient(REMOTE_ADDR="203.0.113.7")
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    statuses = [bad.get("/api/me").status_code for _ in range(4)]
    statuses += [APIClient(REMOTE_ADDR="203.0.113.7").get("/api/me").status_code]  # no credentials at all
    assert statuses == [401] * 4 + [429]
    assert_limited(bad.get("/api/paper-orders"))
    # A valid token from that address is still served, and another address is not affected.
    good = APIClient(REMOTE_ADDR="203.0.113.7")
    good.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(customer)}")
    assert good.get("/api/me").status_code == 200
    other = APIClient(REMOTE_ADDR="198.51.100.9")
    other.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert other.get("/api/me").status_code == 401


@override_settings(THROTTLE_ANONYMOUS="3/min")
def test_throttle_anonymous_counts_bad_walkthrough_tokens():
    from walkthrough.services import program_get_or_create, walkthrough_invite

    program = program_get_or_create(name="cohort-t", ends_on=timezone.now().date() + timedelta(days=30))
    token = walkthrough_invite(email="t@example.test", program=program).token
    guesser = APIClient(REMOTE_ADDR="203.0.113.8")
    guesser.credentials(HTTP_AUTHORIZATION="Bearer " + token[:-2] + "zz")
    assert [guesser.get("/api/walkthrough/status").status_code for _ in range(3)] == [401] * 3
    assert_limited(guesser.get("/api/walkthrough/status"))
    tester = APIClient(REMOTE_ADDR="203.0.113.8")
    tester.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert tester.get("/api/walkthrough/status").status_code == 200


@override_settings(THROTTLE_ANONYMOUS="2/min", REST_FRAMEWORK={
    **__import__("django.conf").conf.settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_a_proxy_the_address_is_the_proxys_forwarded_hop():
    from rest_framework.settings import api_settings

    api_settings.reload()
    try:
        statuses = [APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{spoof}, 203.0.113.9").get(
            "/api/me").status_code for spoof in ("1.1.1.1", "2.2.2.2", "3.3.3.3")]
        assert statuses == [401, 401, 429]  # a spoofed first hop does not make a new client
        assert APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.10").get("/api/me").status_code == 401
    finally:
        api_settings.reload()


def test_default_limits_are_the_contract(settings):
    from raxx import settings as project_settings

    assert (project_settings.THROTTLE_CUSTOMER, project_settings.THROTTLE_CUSTOMER_WRITES,
            project_settings.THROTTLE_ANONYMOUS) == ("1200/min", "120/min", "60/min")


def test_requests_are_served_when_the_cache_is_down(customer):
    dead = dead_redis_caches()
    with override_settings(CACHES=dead, THROTTLE_CUSTOMER="1/min", THROTTLE_CUSTOMER_WRITES="1/min",
                           THROTTLE_ANONYMOUS="1/min"):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(customer)}")
        assert [api.get("/api/me").status_code for _ in range(3)] == [200] * 3
        assert [api.post("/api/paper-orders", ORDER, format="json").status_code for _ in range(2)] == [201] * 2
        assert [APIClient().get("/api/me").status_code for _ in range(3)] == [401] * 3


@pytest.mark.skipif("not __import__('django.conf').conf.settings.REDIS_URL", reason="needs REDIS_URL")
def test_one_cache_round_trip_per_request_on_redis(api, monkeypatch):
    """The customer limits ride in the request's one round trip to Redis (two counters for a write),
    with the MGET of the customer's row and the flags (raxx/request_cache.py)."""
    assert api.get("/api/me").status_code == 200  # the customer's first sight caches the row
    writes = redis_writes(monkeypatch)
    seen = []
    with override_settings(THROTTLE_CUSTOMER="3/min"):  # the first-sight request counted too
        assert api.get("/api/me").status_code == 200
        seen.append(writes[:]), writes.clear()
        assert api.post("/api/paper-orders", ORDER, format="json").status_code == 201
        seen.append(writes[:1]), writes.clear()  # the write's own cache changes follow
        assert_limited(api.get("/api/me"))
        seen.append(writes[:])
    assert seen == [[3], [5], [3]]  # MGET + SET NX EX and INCR per counter, in one write


@pytest.mark.skipif("not __import__('django.conf').conf.settings.REDIS_URL", reason="needs REDIS_URL")
def test_a_redis_error_in_the_round_trip_serves_the_request_and_the_next(api, customer, caplog):
    """An error reply (here: a counter that is not a number) drops the connection with its unread
    replies: this request is served without limits, and the next one reads its own replies."""
    from django.core.cache import cache

    from raxx import throttling

    (key, _), = throttling.counters(throttling.customer_limits(customer.id)[:1])[0]
    cache.set(key, "not a number", 60)
    throttling._cache_down_warning.reset()
    # A write: the error is the third of five replies, so two are left unread on that connection.
    assert api.post("/api/paper-orders", ORDER, format="json").status_code == 201
    assert "Rate limits are not enforced" in caplog.text
    cache.delete(key)
    with override_settings(THROTTLE_CUSTOMER="2/min"):
        assert [api.get("/api/me").status_code for _ in range(3)] == [200, 200, 429]
        assert api.get("/api/me").json()["error"] == "rate_limited"


def test_a_bad_rate_setting_stops_start_up():
    import os
    import subprocess
    import sys

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "raxx.settings", "THROTTLE_CUSTOMER": "lots"}
    result = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True,
                            timeout=60, cwd=__import__("pathlib").Path(__file__).resolve().parents[2])
    assert result.returncode != 0 and "THROTTLE_CUSTOMER looks like '120/min'" in result.stderr


def test_other_customers_are_not_slowed_by_one_customers_burst(api):
    others = [make_customer() for _ in range(3)]
    with override_settings(THROTTLE_CUSTOMER="2/min"):
        for _ in range(3):
            api.get("/api/me")
        for other in others:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(other)}")
            assert client.get("/api/me").status_code == 200
