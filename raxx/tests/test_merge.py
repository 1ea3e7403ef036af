"""Merge engine: set-based moves per declared rule, tombstone, audit, refusals, atomicity."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from raxx import merge
from raxx.customer_data import OnMerge, rules
from raxx.dsr import customer_row_ids
from raxx.merge import AccountsRefused, merge_accounts, plan_merge
from raxx.models import AuditEvent, Customer, TombstonedEmail
from raxx.tests.accounts_testapp.models import (
    Draft, Label, Order, PaperTrade, Position, Progress, Receipt, Setting, Snapshot)
from raxx.tombstones import is_email_tombstoned

from .conftest import fill_account
from .helpers import confirmed_request, consented_merge

WAIVED = "test: engine refusal"


def db_state():
    """Every row of every table the merge may touch, comparable before/after."""
    models = [Customer, AuditEvent, TombstonedEmail, Order, Label, Position, Snapshot, Setting, Progress,
              PaperTrade, Draft, Receipt]
    return {m._meta.label: sorted(map(repr, m.objects.order_by("pk").values())) for m in models}


@pytest.fixture
def two_accounts(primary, secondary):
    fill_account(primary, trade_ids=(1, 2), horizon="close_of_market_only")
    fill_account(secondary, trade_ids=(2, 3), horizon="end_of_month")
    return primary, secondary


def test_dry_run_counts_collisions_and_changes_nothing(two_accounts):
    primary, secondary = two_accounts
    before = db_state()
    plan = plan_merge(primary_id=primary.pk, secondary_id=secondary.pk)
    steps = {s.key: s for s in plan.steps}
    assert steps["accounts_testapp.Order.customer"].moved == 2
    label = steps["accounts_testapp.Label.customer"]
    assert (label.rows, label.moved, label.collisions) == (2, 1, 1)
    assert label.collision_samples == [{"source_table": "paper_orders", "trade_id": 2}]
    assert "primary's row is kept" in label.resolution
    assert (steps["accounts_testapp.Setting.customer"].collisions, steps["accounts_testapp.Setting.customer"].moved) == (1, 0)
    assert steps["accounts_testapp.Position.customer"].owned == {}  # the snapshot has its own rule
    progress = steps["accounts_testapp.Progress.tester_email"]
    assert progress.collisions == 1 and progress.moved == 0  # same program under both emails
    assert steps["accounts_testapp.Draft.customer"].deleted == 1
    assert steps["accounts_testapp.Receipt.customer"].kept == 1
    assert db_state() == before


def test_merge_moves_rows_resolves_collisions_and_tombstones(two_accounts):
    primary, secondary = two_accounts
    consented_merge(primary, secondary, actor="operator:alice")

    assert Order.objects.filter(customer=primary).count() == 4
    assert sorted(Label.objects.filter(customer=primary).values_list("trade_id", flat=True)) == [1, 2, 3]
    assert Setting.objects.get(customer=primary).tracking_horizon == "close_of_market_only"  # primary's kept
    assert Position.objects.filter(customer=primary).count() == 2
    assert Snapshot.objects.filter(user_id=primary.pk).count() == 2
    assert not Snapshot.objects.filter(user_id=secondary.pk).exists()
    assert Draft.objects.filter(customer=primary).count() == 1 and not Draft.objects.filter(customer=secondary).exists()
    assert Receipt.objects.filter(customer=secondary).count() == 1  # rule: keep
    assert Progress.objects.filter(tester_email=primary.email).count() == 1
    assert not Progress.objects.filter(tester_email__iexact="secondary@example.test").exists()

    secondary.refresh_from_db()
    assert secondary.email is None and secondary.tombstoned_at is not None
    assert is_email_tombstoned("Secondary@Example.test")
    assert not is_email_tombstoned("primary@example.test")
    assert "secondary@example.test" not in repr(list(TombstonedEmail.objects.values()))


def test_merge_touches_updated_at_like_the_spec_update(two_accounts):
    """Revision §4.2: SET user_id = :primary, updated_at = NOW() — via ``touch`` or ``auto_now``."""
    primary, secondary = two_accounts
    snapshot = Snapshot.objects.get(user_id=secondary.pk)
    order = Order.objects.filter(customer=secondary).first()
    untouched = Order.objects.filter(customer=primary).first()
    consented_merge(primary, secondary)
    assert Snapshot.objects.get(pk=snapshot.pk).updated_at > snapshot.updated_at
    assert Order.objects.get(pk=order.pk).updated_at > order.updated_at
    assert Order.objects.get(pk=untouched.pk).updated_at == untouched.updated_at


def test_unfinished_rows_still_found_by_jobs_after_merge(two_accounts):
    """Jobs query by horizon_reached, not by user: the re-attributed pending row is still picked up."""
    primary, secondary = two_accounts
    pending = Snapshot.objects.get(user_id=secondary.pk)
    consented_merge(primary, secondary)
    assert pending.pk in set(Snapshot.objects.filter(horizon_reached=False).values_list("pk", flat=True))
    assert Snapshot.objects.filter(horizon_reached=False).update(horizon_reached=True) == 2


def test_every_row_of_the_secondary_is_reachable_by_the_primary(primary, secondary):
    """Without collisions, every row (owned rows included) follows, except the delete/keep rules'."""
    fill_account(primary, trade_ids=(1, 2), program="beta")
    fill_account(secondary, trade_ids=(3, 4), program="alpha")
    Setting.objects.filter(customer=primary).delete()
    before = customer_row_ids(secondary)
    consented_merge(primary, secondary)
    after = customer_row_ids(primary)
    stays_or_goes = {r.label for r in rules() if r.on_merge in (OnMerge.KEEP, OnMerge.DELETE)}
    checked = {label for label, ids in before.items() if ids and label not in stays_or_goes}
    assert {"accounts_testapp.Order", "accounts_testapp.Snapshot", "accounts_testapp.PaperTrade"} <= checked
    for label in checked:
        assert before[label] <= after[label], label
    assert PaperTrade.objects.filter(progress__tester_email=primary.email).count() == 2


def test_audit_event_has_counts_and_no_pii(two_accounts):
    primary, secondary = two_accounts
    consented_merge(primary, secondary, actor="operator:alice")
    event = AuditEvent.objects.get(event_type="account_merged")
    assert event.customer_id == primary.pk and event.actor == "operator:alice"
    assert event.data["secondary_id"] == str(secondary.pk)
    assert event.data["tables"]["accounts_testapp.Label.customer"] == {
        "moved": 1, "collisions_dropped": 1, "deleted": 0, "kept": 0}
    assert event.data["rows_moved"] == sum(t["moved"] for t in event.data["tables"].values())
    assert "@" not in repr(event.data)


def test_secondary_token_gets_401_at_once(two_accounts, api_for):
    primary, secondary = two_accounts
    client = api_for(secondary)
    assert client.get("/api/me").status_code == 200
    consented_merge(primary, secondary)
    assert client.get("/api/me").status_code == 401
    assert Customer.objects.filter(pk=secondary.pk).count() == 1  # not re-provisioned
    assert api_for(primary).get("/api/me").status_code == 200


@pytest.mark.parametrize("case", ["same", "missing_primary", "missing_secondary", "tombstoned", "bad_uuid"])
def test_refusals_change_nothing(two_accounts, case):
    import uuid

    primary, secondary = two_accounts
    args = {"same": (primary.pk, primary.pk), "missing_primary": (uuid.uuid4(), secondary.pk),
            "missing_secondary": (primary.pk, uuid.uuid4()), "tombstoned": (primary.pk, secondary.pk),
            "bad_uuid": ("nope", secondary.pk)}[case]
    if case == "tombstoned":
        Customer.objects.filter(pk=secondary.pk).update(tombstoned_at="2026-01-01T00:00Z")
    before = db_state()
    with pytest.raises(AccountsRefused) as exc:
        merge_accounts(primary_id=args[0], secondary_id=args[1], without_consent_reason=WAIVED)
    expected = {"same": "same_account", "missing_primary": "not_found", "missing_secondary": "not_found",
                "tombstoned": "tombstoned", "bad_uuid": "invalid_id"}[case]
    assert exc.value.code == expected
    with pytest.raises(AccountsRefused):
        plan_merge(primary_id=args[0], secondary_id=args[1])
    assert db_state() == before


def test_merge_without_consent_or_waiver_is_refused(two_accounts):
    primary, secondary = two_accounts
    before = db_state()
    with pytest.raises(AccountsRefused) as exc:
        merge_accounts(primary_id=primary.pk, secondary_id=secondary.pk)
    assert exc.value.code == "consent_required"
    with pytest.raises(AccountsRefused) as exc:
        merge_accounts(primary_id=primary.pk, secondary_id=secondary.pk, without_consent_reason="  ")
    assert exc.value.code == "reason_required"
    assert db_state() == before


def test_merging_twice_is_refused(two_accounts):
    primary, secondary = two_accounts
    consented_merge(primary, secondary)
    after_first = db_state()
    with pytest.raises(AccountsRefused, match="already tombstoned"):
        merge_accounts(primary_id=primary.pk, secondary_id=secondary.pk, without_consent_reason=WAIVED)
    assert db_state() == after_first


def test_email_linked_rows_need_a_primary_email(two_accounts):
    primary, secondary = two_accounts
    Customer.objects.filter(pk=primary.pk).update(email=None)
    request = confirmed_request(primary, secondary)
    before = db_state()
    with pytest.raises(AccountsRefused) as exc:
        merge_accounts(primary_id=primary.pk, secondary_id=secondary.pk, request_id=request.pk)
    assert exc.value.code == "primary_without_email"
    assert db_state() == before


def test_accounts_sharing_an_email_keep_the_email_linked_rows(primary, secondary):
    """Both accounts hold one address: its rows are already the primary's, never 'collisions' to delete."""
    Customer.objects.filter(pk=secondary.pk).update(email="PRIMARY@example.test")
    secondary.refresh_from_db()
    fill_account(primary)
    plan = plan_merge(primary_id=primary.pk, secondary_id=secondary.pk)
    step = next(s for s in plan.steps if s.key == "accounts_testapp.Progress.tester_email")
    assert (step.kept, step.collisions) == (1, 0) and "already the primary's" in step.resolution
    consented_merge(primary, secondary)
    assert Progress.objects.filter(tester_email=primary.email).count() == 1
    assert PaperTrade.objects.count() == 1


@pytest.mark.parametrize("fail_after", [1, 3, 6])
def test_failure_half_way_leaves_both_accounts_as_they_were(two_accounts, monkeypatch, fail_after):
    primary, secondary = two_accounts
    request = confirmed_request(primary, secondary)
    before = db_state()
    real_step, calls = merge._merge_rule, []

    def failing_step(rule, *args):
        if len(calls) == fail_after:
            raise RuntimeError("disk full")
        calls.append(rule.key)
        return real_step(rule, *args)

    monkeypatch.setattr(merge, "_merge_rule", failing_step)
    with pytest.raises(RuntimeError):
        merge_accounts(primary_id=primary.pk, secondary_id=secondary.pk, request_id=request.pk)
    assert len(calls) == fail_after  # some tables had really been moved before the failure
    assert db_state() == before
    request.refresh_from_db()
    assert request.status == "confirmed" and request.closed_at is None  # still executable


def count_queries_of(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_merge_is_set_based(primary, secondary):
    """The statement count depends on the number of tables, not on the number of rows."""
    from conftest import make_customer

    fill_account(primary)
    fill_account(secondary)
    request = confirmed_request(primary, secondary)
    small = count_queries_of(lambda: merge_accounts(primary_id=primary.pk, secondary_id=secondary.pk,
                                                    request_id=request.pk))
    big_primary, big_secondary = make_customer(), make_customer()
    fill_account(big_primary)
    fill_account(big_secondary, orders=300, trade_ids=range(1, 301))
    request = confirmed_request(big_primary, big_secondary)
    big = count_queries_of(lambda: merge_accounts(primary_id=big_primary.pk, secondary_id=big_secondary.pk,
                                                  request_id=request.pk))
    assert small == big <= 48  # a few statements per registered table (16 tables), none per row
    assert Order.objects.filter(customer=big_primary).count() == 302


# --- command ----------------------------------------------------------------------------

def test_command_dry_run_prints_table_counts_and_collisions(two_accounts, capsys):
    primary, secondary = two_accounts
    before = db_state()
    call_command("merge_accounts", "--primary", str(primary.pk), "--secondary", str(secondary.pk), "--dry-run")
    out = capsys.readouterr().out
    assert "accounts_testapp.Order.customer" in out and "2 moved" in out
    assert "collide on (source_table, trade_id)" in out
    assert "collision on {'source_table': 'paper_orders', 'trade_id': 2}" in out
    assert "Nothing was changed" in out
    assert db_state() == before


def test_command_merges_with_yes_and_reports_progress(two_accounts, capsys):
    primary, secondary = two_accounts
    request = confirmed_request(primary, secondary)
    call_command("merge_accounts", "--request", str(request.pk), "--yes")
    captured = capsys.readouterr()
    assert "Merged" in captured.out and "[1/" in captured.err
    assert "accounts_testapp.Order.customer (accounts_test_orders): 2 moved" in captured.out.split("Merged")[0].split("Nothing")[0]
    assert AuditEvent.objects.get(event_type="account_merged").actor == "cli:merge_accounts"


def test_command_without_yes_and_without_tty_refuses(two_accounts, monkeypatch):
    import io

    primary, secondary = two_accounts
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    request = confirmed_request(primary, secondary)
    before = db_state()
    with pytest.raises(CommandError, match="--yes"):
        call_command("merge_accounts", "--request", str(request.pk))
    assert db_state() == before


def test_command_refusal_is_a_clear_error(primary):
    with pytest.raises(CommandError, match="same account"):
        call_command("merge_accounts", "--primary", str(primary.pk), "--secondary", str(primary.pk), "--yes",
                     "--without-consent", "--reason", "ticket 7")
