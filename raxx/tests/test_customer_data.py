"""The registry and its system check: no model that refers to a customer goes without a rule."""

import pytest
from argon2 import PasswordHasher
from django.core import checks
from django.db import connection, models
from django.test.utils import CaptureQueriesContext, isolate_apps

from raxx.checks import contradictory_rules, customer_data_rules_check, missing_rules, unworkable_rules
from raxx.customer_data import Link, OnMerge, cascade_children, register, rule_for, rules, unregister
from raxx.models import AuditEvent, Customer
from raxx.tests.accounts_testapp.models import Position, Progress, Snapshot
from raxx.tombstones import is_email_tombstoned, tombstone_email, verify_tombstoned_email


def test_the_project_passes_its_own_check():
    assert customer_data_rules_check() == []


@isolate_apps("raxx")
def test_a_throwaway_model_without_a_rule_fails_the_check():
    class Throwaway(models.Model):
        owner = models.ForeignKey(Customer, on_delete=models.CASCADE)
        user_id = models.UUIDField()
        contact = models.EmailField()
        symbol = models.CharField(max_length=5)

        class Meta:
            app_label = "raxx"

    errors = missing_rules([Throwaway])
    assert {e.id for e in errors} == {"raxx.E001"}
    assert sorted(e.msg.split(" ")[0] for e in errors) == ["raxx.Throwaway.contact", "raxx.Throwaway.owner",
                                                           "raxx.Throwaway.user_id"]


def test_removing_a_rule_makes_the_real_check_fail():
    rule = unregister(Snapshot, "user_id")
    try:
        errors = checks.run_checks()
        assert any(e.id == "raxx.E001" and "accounts_testapp.Snapshot.user_id" in e.msg for e in errors)
    finally:
        register(rule.model, field=rule.field, on_merge=rule.on_merge)
    assert not [e for e in checks.run_checks() if e.id.startswith("raxx.E")]


@isolate_apps("raxx")
def test_reattributing_a_unique_column_fails_the_check():
    class OnePerCustomer(models.Model):
        customer = models.OneToOneField(Customer, on_delete=models.CASCADE)

        class Meta:
            app_label = "raxx"

    rule = register(OnePerCustomer, field="customer", on_merge=OnMerge.REATTRIBUTE)
    try:
        errors = unworkable_rules([rule])
        assert [e.id for e in errors] == ["raxx.E002"] and "KEEP_PRIMARY_ON_CONFLICT" in errors[0].hint
    finally:
        unregister(OnePerCustomer, "customer")


@isolate_apps("raxx")
def test_register_rejects_rules_that_cannot_work():
    class Thing(models.Model):
        customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
        email = models.EmailField()

        class Meta:
            app_label = "raxx"

    with pytest.raises(ValueError, match="unique_with"):
        register(Thing, field="customer", on_merge=OnMerge.KEEP_PRIMARY_ON_CONFLICT)
    with pytest.raises(Exception):
        register(Thing, field="custmer", on_merge=OnMerge.REATTRIBUTE)
    assert rule_for(Thing, "customer") is None


@isolate_apps("raxx")
def test_contradictory_rules_fail_the_check():
    class Kept(models.Model):
        customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
        email = models.EmailField()

        class Meta:
            app_label = "raxx"

    try:
        errors = contradictory_rules([
            register(Kept, field="customer", on_merge=OnMerge.KEEP, erase=False),
            register(Kept, field="email", link=Link.EMAIL, on_merge=OnMerge.KEEP)])  # allowed: walkthrough's choice
        assert [e.id for e in errors] == ["raxx.E003"] and "not nullable" in errors[0].msg
    finally:
        unregister(Kept, "customer")
        unregister(Kept, "email")


def test_core_and_cascade_rules():
    assert rule_for(AuditEvent, "customer").on_merge == OnMerge.KEEP
    assert [r.related_model for r in cascade_children(Progress)] == [Progress.paper_trades.rel.related_model]
    assert cascade_children(Position) == []  # the snapshot has its own rule (its user_id)
    assert [r.table for r in rules()] == sorted(r.table for r in rules())  # a stable order for merge and erasure


def test_tombstoned_email_lookup_is_one_indexed_query(db):
    tombstone_email("Gone@Example.test", reason="merge")
    tombstone_email("gone@example.test", reason="merge")  # idempotent
    with CaptureQueriesContext(connection) as ctx:
        assert is_email_tombstoned("GONE@example.test")
    assert len(ctx.captured_queries) == 1 and "lookup_token" in ctx.captured_queries[0]["sql"]
    assert not is_email_tombstoned("other@example.test")
    from raxx.models import TombstonedEmail

    row = TombstonedEmail.objects.get()
    assert row.email_hash.startswith("$argon2") and "gone" not in row.email_hash.lower() + row.lookup_token
    assert PasswordHasher().verify(row.email_hash, "Gone@Example.test")  # hash(email), as the spec writes it
    assert verify_tombstoned_email(row, "Gone@Example.test")
    assert not verify_tombstoned_email(row, "other@example.test")
    assert TombstonedEmail._meta.get_field("lookup_token").unique  # unique → indexed
