"""DSR export and erasure: every registered table, one transaction, no PII left, token 401."""

import io
import json
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from raxx import dsr
from raxx.customer_data import rules
from raxx.dsr import customer_row_ids, erase_customer, export_customer, export_json, leftovers
from raxx.merge import AccountsRefused
from raxx.tests.helpers import consented_merge
from raxx.models import AuditEvent, Customer, TombstonedEmail
from raxx.tasks import dsr_erase_task
from raxx.tests.accounts_testapp.models import Order, PaperTrade, Receipt, Snapshot
from raxx.tombstones import is_email_tombstoned

from .conftest import fill_account


@pytest.fixture
def full(customer, other_customer):
    fill_account(customer)
    fill_account(other_customer)
    return customer


def test_export_holds_every_registered_table_and_the_customer(full, other_customer):
    doc = export_customer(customer_id=full.pk, actor="operator:bob")
    assert doc["format"] == "raxx.dsr_export" and doc["customer"]["email"] == full.email
    tables = {t["model"]: t for t in doc["tables"]}
    assert set(tables) == {r.label for r in rules()}
    assert len(tables["accounts_testapp.Order"]["rows"]) == 2
    assert tables["accounts_testapp.Snapshot"]["rows"][0]["user_id"] == full.pk
    owned = tables["accounts_testapp.Progress"]["owned"]
    assert owned[0]["model"] == "accounts_testapp.PaperTrade" and len(owned[0]["rows"]) == 1
    other_ids = {o for o in Order.objects.filter(customer=other_customer).values_list("pk", flat=True)}
    assert not other_ids & {r["id"] for r in tables["accounts_testapp.Order"]["rows"]}
    event = AuditEvent.objects.get(event_type="dsr_exported")
    assert event.actor == "operator:bob" and event.data["tables"]["accounts_testapp.Order"] == 2
    assert "@" not in repr(event.data)


def test_export_is_loadable_json_with_utc_z_times_and_decimal_strings(full):
    text = export_json(export_customer(customer_id=full.pk))
    loaded = json.loads(text)
    assert loaded["customer"]["created_at"].endswith("Z")
    receipts = next(t for t in loaded["tables"] if t["model"] == "accounts_testapp.Receipt")
    assert receipts["rows"][0]["amount"] == "9.99"
    assert "\n  " in text  # indented: readable by a person


def test_export_twice_is_harmless(full):
    first = export_customer(customer_id=full.pk)
    second = export_customer(customer_id=full.pk)
    def counts(doc):  # the audit log grows by the first export's own event
        return {t["model"]: len(t["rows"]) for t in doc["tables"] if t["model"] != "raxx.AuditEvent"}

    assert counts(first) == counts(second)
    assert AuditEvent.objects.filter(event_type="dsr_exported").count() == 2


def test_export_command_writes_file_and_refuses_unknown(full, tmp_path, capsys):
    out = tmp_path / "dsr.json"
    call_command("dsr_export", "--user", str(full.pk), "--out", str(out))
    assert json.loads(out.read_text())["customer"]["id"] == str(full.pk)
    call_command("dsr_export", "--user", str(full.pk))
    assert json.loads(capsys.readouterr().out)["customer"]["id"] == str(full.pk)
    with pytest.raises(CommandError, match="No account"):
        call_command("dsr_export", "--user", str(uuid.uuid4()))


def assert_nothing_left_about(customer_id, email):
    assert leftovers(customer_id=customer_id, email=email) == []


def test_the_leftover_scan_finds_rows_and_values(full):
    found = leftovers(customer_id=full.pk, email=full.email)
    assert "accounts_testapp.Order.customer: 2 rows" in found
    assert "accounts_testapp.Progress.tester_email: 1 values hold the email" in found
    assert "raxx.Customer.email: 1 values hold the email" in found


def test_erasure_leaves_nothing_about_the_customer(full, other_customer, api_for):
    email = full.email
    merge_target_client = api_for(full)
    assert merge_target_client.get("/api/me").status_code == 200
    other_before = customer_row_ids(other_customer)
    result = erase_customer(customer_id=full.pk, actor="operator:bob")

    assert result.deleted["accounts_testapp.Order"] == 2
    assert result.deleted["accounts_testapp.Snapshot"] == 1  # with its position, by cascade
    assert result.deleted["accounts_testapp.PaperTrade"] == 1  # with its progress row
    assert result.unlinked == {"accounts_testapp.Receipt.customer": 1}
    assert_nothing_left_about(full.pk, email)
    assert Receipt.objects.filter(customer__isnull=True).count() == 1  # evidence, unlinked

    full.refresh_from_db()
    assert full.email is None and full.tombstoned_at is not None
    event = AuditEvent.objects.get(customer=full)
    assert event.event_type == "dsr_erased" and event.actor == "operator:bob"
    assert event.data["rows_deleted"] == result.rows_deleted
    assert "@" not in repr(event.data) and email not in repr(event.data)

    assert merge_target_client.get("/api/me").status_code == 401  # not re-provisioned
    assert Customer.objects.filter(pk=full.pk).count() == 1
    assert customer_row_ids(other_customer) == other_before  # the other customer keeps everything


def test_erasure_after_a_merge_takes_the_secondary_origin_rows_and_the_tombstone(customer, other_customer):
    fill_account(customer, program="a")
    fill_account(other_customer, trade_ids=(7,), program="b")
    secondary_email = other_customer.email
    consented_merge(customer, other_customer)
    erase_customer(customer_id=customer.pk)
    assert not Snapshot.objects.exists() and not PaperTrade.objects.exists()
    assert is_email_tombstoned(secondary_email)  # the merged-away account's tombstone is not the primary's
    assert_nothing_left_about(customer.pk, "owner@example.test")


def test_erasure_forgets_a_tombstone_of_the_same_address(customer):
    from raxx.tombstones import tombstone_email

    tombstone_email(customer.email, reason="merge")
    erase_customer(customer_id=customer.pk)
    assert not TombstonedEmail.objects.exists()


def test_erasing_twice_is_refused_and_changes_nothing(full):
    erase_customer(customer_id=full.pk)
    with pytest.raises(AccountsRefused) as exc:
        erase_customer(customer_id=full.pk)
    assert exc.value.code == "already_erased"
    assert AuditEvent.objects.filter(event_type="dsr_erased").count() == 1


def test_erasing_a_missing_account_is_refused(db):
    with pytest.raises(AccountsRefused, match="No account"):
        erase_customer(customer_id=uuid.uuid4())


def test_erasure_failing_half_way_changes_nothing(full, monkeypatch):
    from .test_merge import db_state

    before = db_state()
    real, calls = dsr._erase_rule, []

    def failing(rule, *args):
        if len(calls) == 4:
            raise RuntimeError("boom")
        calls.append(rule.key)
        return real(rule, *args)

    monkeypatch.setattr(dsr, "_erase_rule", failing)
    with pytest.raises(RuntimeError):
        erase_customer(customer_id=full.pk)
    assert db_state() == before


def test_erase_command_prints_counts_and_needs_yes_without_tty(full, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="--yes"):
        call_command("dsr_erase", "--user", str(full.pk))
    assert Order.objects.filter(customer=full).exists()
    call_command("dsr_erase", "--user", str(full.pk), "--yes")
    out = capsys.readouterr().out
    assert "accounts_testapp.Order (accounts_test_orders): 2 deleted" in out and "Erased" in out
    with pytest.raises(CommandError, match="already erased"):
        call_command("dsr_erase", "--user", str(full.pk), "--yes")


def test_erase_command_refuses_a_missing_account_before_asking(db):
    with pytest.raises(CommandError, match="No account"):
        call_command("dsr_erase", "--user", str(uuid.uuid4()))


def test_celery_task_erases_and_reports_refusals(full):
    assert dsr_erase_task.delay(str(full.pk), "admin:operator").get()["rows_deleted"] > 0
    assert AuditEvent.objects.get(event_type="dsr_erased").actor == "admin:operator"
    assert dsr_erase_task.delay(str(full.pk)).get() == {"customer_id": str(full.pk), "refused": "already_erased"}
