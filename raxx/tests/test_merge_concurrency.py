"""Two merges (or a merge and an erasure) on the same account at once: one waits or fails cleanly.

PostgreSQL only: real row locks, each thread on its own connection.
"""

import threading

import pytest
from django.db import connection

from conftest import make_customer
from raxx import merge
from raxx.dsr import erase_customer
from raxx.merge import AccountsRefused, merge_accounts
from raxx.models import AuditEvent, Customer
from raxx.tests.accounts_testapp.models import Label, Order, Position, Progress, Setting, Snapshot

from .conftest import fill_account
from .helpers import confirmed_request

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class Held:
    """Runs a merge in a thread that stops inside the transaction (locks held) until released."""

    def __init__(self, monkeypatch, **merge_kwargs):
        self.locked, self.release, self.error = threading.Event(), threading.Event(), None
        self.thread = threading.Thread(target=self._run, kwargs=merge_kwargs)
        real = merge._merge_rule

        def step(rule, *args):
            if threading.current_thread() is self.thread and not self.locked.is_set():
                self.locked.set()
                assert self.release.wait(15)
            return real(rule, *args)

        monkeypatch.setattr(merge, "_merge_rule", step)

    def _run(self, **kwargs):
        try:
            merge_accounts(**kwargs)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(15)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(15)


def assert_no_orphans(owners):
    """Every row of every test table belongs to one of ``owners`` (live customers), none to a tombstone."""
    live = set(Customer.objects.filter(tombstoned_at__isnull=True).values_list("pk", flat=True))
    assert {o.pk for o in owners} <= live
    for model in (Order, Label, Position, Setting):
        assert set(model.objects.values_list("customer_id", flat=True)) <= live, model
    assert set(Snapshot.objects.values_list("user_id", flat=True)) <= live
    emails = set(Customer.objects.filter(pk__in=live).values_list("email", flat=True))
    assert set(Progress.objects.values_list("tester_email", flat=True)) <= emails


def test_second_merge_of_a_locked_account_fails_cleanly(monkeypatch, settings):
    settings.ACCOUNTS_LOCK_TIMEOUT_MS = 300
    a, b, c = make_customer("a@example.test"), make_customer("b@example.test"), make_customer("c@example.test")
    for customer in (a, b, c):
        fill_account(customer)
    request = confirmed_request(a, b)
    with Held(monkeypatch, primary_id=a.pk, secondary_id=b.pk, request_id=request.pk) as first:
        with pytest.raises(AccountsRefused) as exc:
            merge_accounts(primary_id=c.pk, secondary_id=b.pk, without_consent_reason="test: break-glass")
        assert exc.value.code == "busy" and "already running" in exc.value.message
        with pytest.raises(AccountsRefused) as exc:
            erase_customer(customer_id=b.pk)
        assert exc.value.code == "busy"
    assert first.error is None
    assert Order.objects.filter(customer=a).count() == 4 and Order.objects.filter(customer=c).count() == 2
    assert AuditEvent.objects.filter(event_type="account_merged").count() == 1
    assert not AuditEvent.objects.filter(event_type="dsr_erased").exists()
    assert_no_orphans([a, c])


def test_crossed_merge_waits_then_refuses_without_deadlock(monkeypatch, settings):
    """A merges B into A while B→A is requested: locks are taken in id order, the second waits,
    then finds B tombstoned and refuses."""
    settings.ACCOUNTS_LOCK_TIMEOUT_MS = 10_000
    a, b = make_customer("a@example.test"), make_customer("b@example.test")
    fill_account(a)
    fill_account(b, trade_ids=(8, 9), program="other")
    outcome = {}

    def crossed():
        try:
            merge_accounts(primary_id=b.pk, secondary_id=a.pk, without_consent_reason="test: break-glass")
        except AccountsRefused as exc:
            outcome["code"] = exc.code
        finally:
            connection.close()

    request = confirmed_request(a, b)
    with Held(monkeypatch, primary_id=a.pk, secondary_id=b.pk, request_id=request.pk) as first:
        second = threading.Thread(target=crossed)
        second.start()
        second.join(0.5)
        assert second.is_alive()  # it waits for the lock
    second.join(15)
    assert first.error is None and outcome == {"code": "tombstoned"}
    assert Customer.objects.get(pk=b.pk).is_tombstoned and not Customer.objects.get(pk=a.pk).is_tombstoned
    assert_no_orphans([a])
