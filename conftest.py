"""Fixtures shared by every app's tests.

The trio most tests want: ``customer`` (the caller), ``other_customer``
(whose data must stay invisible) and ``operator`` (a staff user in the admin).
``api`` is a DRF client for a customer with a tier; ``flags`` turns waffle
flags on and off the way an operator would.
"""

import os
import threading
import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from raxx.models import Customer
from raxx.tests.helpers import clear_cache
from raxx.tokens import issue_dev_token

# pytest-django's live_server binds here (a free ephemeral port), never a public address.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


def pytest_runtest_setup(item):
    marker = item.get_closest_marker("postgres_only")
    if marker is None:
        return
    if connection.vendor != "postgresql":
        reason = f"needs PostgreSQL, this run is on {connection.vendor}"
        if os.environ.get("RAXX_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (RAXX_REQUIRE_POSTGRES=1: PostgreSQL-only tests must run here)")
        pytest.skip(reason)


def concurrently(fn, count: int, *, args: list[tuple] | None = None, start_together: bool = True) -> list:
    """Run ``fn`` in ``count`` threads, each on its own database connection, released
    together (a barrier) so they really race; results in thread order. The first
    exception raised in a thread is re-raised here. For PostgreSQL race tests."""
    barrier = threading.Barrier(count, timeout=30)
    results, errors = [None] * count, []

    def run(i):
        try:
            if start_together:
                barrier.wait()
            results[i] = fn(*(args[i] if args else ()))
        except BaseException as exc:  # surfaced in the test's thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


@pytest.fixture(autouse=True)
def _responses_match_the_schema(request, monkeypatch):
    """Every /api and /healthz response a test client receives is checked against the OpenAPI
    schema (raxx/tests/openapi_check.py); opt out of the strict status check with
    @pytest.mark.schema_unchecked for a request deliberately outside the schema."""
    from django.test.client import Client

    from raxx.tests.openapi_check import checking_request

    lenient = request.node.get_closest_marker("schema_unchecked") is not None
    monkeypatch.setattr(Client, "request", checking_request(Client.request, lenient=lenient))


@pytest.fixture(autouse=True)
def _clean_cache():
    clear_cache()
    yield
    clear_cache()


def make_customer(email: str | None = None) -> Customer:
    cid = uuid.uuid4()
    return Customer.objects.create(id=cid, email=email or f"{cid.hex[:8]}@example.test")


@pytest.fixture
def customer(db) -> Customer:
    return make_customer("owner@example.test")


@pytest.fixture
def other_customer(db) -> Customer:
    return make_customer("other@example.test")


@pytest.fixture
def operator(db, django_user_model):
    # No usable password: operators sign in with a passkey only (CONTRACTS §8).
    return django_user_model.objects.create_user(
        "operator", "operator@example.test", None, is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


def token_for(customer: Customer, tier: str | None = "pro_plus", **kwargs) -> str:
    return issue_dev_token(sub=customer.id, tier=tier, **kwargs)


@pytest.fixture
def api_for():
    """``api_for(customer, tier="pro")`` → an APIClient sending that customer's JWT."""

    def make(customer: Customer, tier: str | None = "pro_plus") -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(customer, tier)}")
        return client

    return make


@pytest.fixture
def api(api_for, customer) -> APIClient:
    return api_for(customer)


@pytest.fixture
def other_api(api_for, other_customer) -> APIClient:
    return api_for(other_customer)


class FlagSwitch:
    def on(self, name: str) -> None:
        self._set(name, True)

    def off(self, name: str) -> None:
        self._set(name, False)

    def _set(self, name: str, everyone: bool) -> None:
        from waffle.models import Flag

        flag = Flag.objects.get(name=name)  # created by the flags migrations
        flag.everyone = everyone
        flag.save()
        flag.flush()  # waffle flushes its cache on commit; a test transaction never commits


@pytest.fixture
def flags(db) -> FlagSwitch:
    return FlagSwitch()


def pytest_collection_modifyitems(items):
    """A transactional test without serialized_rollback flushes the database and
    re-creates content types with new ids; a later serialized test then cannot
    restore the migrated data. Fail fast and say why instead."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            raise pytest.UsageError(
                f"{item.nodeid}: use @pytest.mark.django_db(transaction=True, serialized_rollback=True) so the "
                "data created by migrations (flags, taxonomy, periodic tasks) survives for the tests after it")
