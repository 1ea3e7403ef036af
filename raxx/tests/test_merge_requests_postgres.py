"""CONTRACTS §9 on PostgreSQL: real row locks, each thread on its own connection."""

import threading

import pytest
from django.db import connection, transaction

from conftest import concurrently, make_customer
from raxx.merge import AccountsRefused
from raxx.merge_requests import execute_merge_request, open_merge_request
from raxx.models import AuditEvent, Customer, MergeRequest
from raxx.tests.accounts_testapp.models import Order

from .conftest import fill_account
from .helpers import confirmed_request

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_two_executions_of_one_request_make_one_merge(settings):
    settings.ACCOUNTS_LOCK_TIMEOUT_MS = 10_000
    a, b = make_customer("a@example.test"), make_customer("b@example.test")
    fill_account(a)
    fill_account(b, trade_ids=(8, 9), program="other")
    request = confirmed_request(a, b)

    def run():
        try:
            return execute_merge_request(request_id=request.pk, actor="operator:race").rows_moved
        except AccountsRefused as exc:
            return exc.code

    outcomes = concurrently(run, 2)
    assert sum(isinstance(o, int) for o in outcomes) == 1 and outcomes.count("merge_request_closed") == 1, outcomes
    assert AuditEvent.objects.filter(event_type="account_merged").count() == 1
    assert Order.objects.filter(customer=a).count() == 4
    assert MergeRequest.objects.get(pk=request.pk).status == "executed"
    assert Customer.objects.get(pk=b.pk).is_tombstoned


def test_two_opens_over_one_account_make_one_request(settings):
    settings.ACCOUNTS_LOCK_TIMEOUT_MS = 10_000
    a, b, c = make_customer(), make_customer(), make_customer()

    def run(primary, secondary):
        try:
            return str(open_merge_request(primary_id=primary.pk, secondary_id=secondary.pk, reason="t").pk)
        except AccountsRefused as exc:
            return exc.code

    outcomes = concurrently(run, 2, args=[(a, b), (c, b)])
    assert sorted(o == "open_request" for o in outcomes) == [False, True], outcomes
    assert MergeRequest.objects.count() == 1


def test_opening_while_an_erasure_holds_the_account_is_refused_naming_it(settings):
    """An erasure in progress holds the customer row lock: opening waits, then refuses with ``busy``."""
    settings.ACCOUNTS_LOCK_TIMEOUT_MS = 300
    a, b = make_customer(), make_customer()
    held, release = threading.Event(), threading.Event()

    def erasure_in_progress():
        try:
            with transaction.atomic():
                list(Customer.objects.select_for_update().filter(pk=b.pk))
                held.set()
                release.wait(15)
        finally:
            connection.close()

    thread = threading.Thread(target=erasure_in_progress)
    thread.start()
    try:
        assert held.wait(15)
        with pytest.raises(AccountsRefused) as exc:
            open_merge_request(primary_id=a.pk, secondary_id=b.pk, reason="t")
        assert exc.value.code == "busy" and str(b.pk) in exc.value.message
    finally:
        release.set()
        thread.join(15)
    assert not MergeRequest.objects.exists()
