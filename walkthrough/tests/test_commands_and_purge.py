import io
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from raxx.customer_data import Link, OnMerge, rule_for
from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgram, WalkthroughProgress, WalkthroughResponse
from walkthrough.services import program_get_or_create, walkthrough_invite, walkthrough_purge
from walkthrough.tests.conftest import SURVEY, client_for
from walkthrough.tokens import token_hash


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_invite_prints_the_token_last_and_stores_its_hash(db):
    out = run("walkthrough_invite", "Ana@Example.test", "--program", "spring")
    token = out.strip().splitlines()[-1]
    row = WalkthroughProgress.objects.get()
    assert row.tester_email == "ana@example.test" and row.program.name == "spring"
    assert row.token_hash == token_hash(token) and token not in out.strip().splitlines()[0]
    assert client_for(token).get("/api/walkthrough/status").status_code == 200
    assert WalkthroughProgram.objects.get().ends_on == timezone.now().date() + timedelta(days=60)


def test_invite_defaults_and_bad_arguments(db):
    run("walkthrough_invite", "b@example.test")
    assert WalkthroughProgress.objects.get().program.name == "beta"
    with pytest.raises(CommandError):
        run("walkthrough_invite", "not-an-email")
    with pytest.raises(CommandError):
        run("walkthrough_invite", "c@example.test", "--program", "  ")
    assert WalkthroughProgress.objects.count() == 1


def _tester_with_everything(program, email):
    progress = walkthrough_invite(email=email, program=program).progress
    WalkthroughPaperTrade.objects.create(progress=progress, underlying="SPX", legs_json="[]")
    WalkthroughResponse.objects.create(progress=progress, answers=SURVEY)
    return progress


@pytest.fixture
def programs(db):
    today = timezone.now().date()
    old = program_get_or_create(name="old", ends_on=today - timedelta(days=30))
    recent = program_get_or_create(name="recent", ends_on=today - timedelta(days=29))
    WalkthroughProgram.objects.filter(pk__in=[old.pk, recent.pk]).update(starts_on=today - timedelta(days=90))
    old.refresh_from_db()
    recent.refresh_from_db()
    return old, recent


def test_purge_deletes_every_row_30_days_after_the_program_ends(programs):
    old, recent = programs
    gone = _tester_with_everything(old, "gone@example.test")
    kept = _tester_with_everything(recent, "kept@example.test")
    counts = walkthrough_purge()
    assert counts == {"beta_walkthrough_progress": 1, "beta_walkthrough_paper_trades": 1,
                      "beta_walkthrough_responses": 1}
    assert not WalkthroughProgress.objects.filter(pk=gone.pk).exists()
    assert not WalkthroughPaperTrade.objects.filter(progress_id=gone.pk).exists()
    assert not WalkthroughResponse.objects.filter(progress_id=gone.pk).exists()
    assert WalkthroughProgress.objects.filter(pk=kept.pk).exists()
    assert WalkthroughPaperTrade.objects.filter(progress=kept).exists()
    assert walkthrough_purge() == {"beta_walkthrough_progress": 0, "beta_walkthrough_paper_trades": 0,
                                   "beta_walkthrough_responses": 0}
    assert walkthrough_purge(today=recent.ends_on + timedelta(days=30))["beta_walkthrough_progress"] == 1


def test_purge_command_dry_run_prints_counts_and_deletes_nothing(programs):
    old, _ = programs
    _tester_with_everything(old, "gone@example.test")
    out = run("walkthrough_purge", "--dry-run")
    assert "beta_walkthrough_progress: 1" in out and "beta_walkthrough_paper_trades: 1" in out
    assert "Would delete 3 rows" in out
    assert WalkthroughProgress.objects.count() == 1
    out = run("walkthrough_purge")
    assert "Deleted 3 rows" in out and not WalkthroughProgress.objects.exists()


def test_purge_task_runs_and_is_scheduled_daily(programs):
    from django_celery_beat.models import PeriodicTask

    from raxx.periodic import sync_periodic_tasks
    from walkthrough.tasks import walkthrough_purge as task

    old, _ = programs
    _tester_with_everything(old, "gone@example.test")
    assert task.delay().get()["beta_walkthrough_progress"] == 1
    sync_periodic_tasks()
    job = PeriodicTask.objects.get(name="walkthrough-purge")
    assert job.task == "walkthrough.tasks.walkthrough_purge"
    assert (job.crontab.minute, job.crontab.hour, job.crontab.day_of_week) == ("15", "3", "*")


def test_walkthrough_rows_are_tied_to_the_testers_email():
    rule = rule_for(WalkthroughProgress, "tester_email")
    assert rule.link == Link.EMAIL and rule.on_merge == OnMerge.KEEP_PRIMARY_ON_CONFLICT and rule.erase
    assert rule.unique_with == ("program",)
    fk = WalkthroughPaperTrade._meta.get_field("progress")
    assert fk.remote_field.on_delete.__name__ == "CASCADE"
    assert WalkthroughResponse._meta.get_field("progress").remote_field.on_delete.__name__ == "CASCADE"


def test_program_end_must_not_precede_its_start(db):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        WalkthroughProgram.objects.create(name="bad", starts_on=date(2026, 6, 2), ends_on=date(2026, 6, 1))


def test_intent_bucket_check_constraint(invite):
    from django.db import IntegrityError, transaction

    progress, _ = invite()
    with pytest.raises(IntegrityError), transaction.atomic():
        WalkthroughProgress.objects.filter(pk=progress.pk).update(intent_bucket="yolo")
    with pytest.raises(IntegrityError), transaction.atomic():
        WalkthroughPaperTrade.objects.create(progress=progress, underlying="X", legs_json="[]", strategy_type="strangle")


def test_demo_seed_is_idempotent_and_prints_a_working_token(db, customer):
    from walkthrough.demo import seed_demo

    for _ in range(2):
        out = io.StringIO()
        seed_demo(demo_customers=[(customer, "pro_plus")], stdout=out)
        assert out.getvalue().count("\n") == 1
    token = out.getvalue().strip().rsplit(" ", 1)[-1]
    assert WalkthroughProgress.objects.count() == 1 and WalkthroughProgram.objects.count() == 1
    assert client_for(token).get("/api/walkthrough/status").status_code == 200


def test_persona_routing_migration_adds_both_columns_in_one_file():
    from django.db.migrations.loader import MigrationLoader

    initial = MigrationLoader(None, ignore_no_migrations=True).get_migration("walkthrough", "0001_initial")
    fields = {name for op in initial.operations if hasattr(op, "fields") for name, _ in op.fields}
    assert "intent_bucket" not in fields and "strategy_type" not in fields  # the pre-feature schema
    migration = MigrationLoader(None, ignore_no_migrations=True).get_migration("walkthrough", "0002_persona_routing")
    added = {(op.model_name, op.name) for op in migration.operations if op.__class__.__name__ == "AddField"}
    assert added == {("walkthroughprogress", "intent_bucket"), ("walkthroughpapertrade", "strategy_type")}
    checks = {op.constraint.name for op in migration.operations if op.__class__.__name__ == "AddConstraint"}
    assert checks == {"beta_walkthrough_intent_bucket", "beta_walkthrough_strategy_type"}


def test_a_merge_moves_the_secondarys_walkthrough_rows_to_the_primarys_email(invite, program):
    """Data follows the primary; the secondary's address is left only as the tombstone hash."""
    from conftest import make_customer
    from raxx.tests.helpers import consented_merge
    from walkthrough.services import program_get_or_create

    primary, secondary = make_customer("keeper@example.test"), make_customer("merged@example.test")
    other_program = program_get_or_create(name="cohort-2", ends_on=program.ends_on)
    invite("keeper@example.test")  # both were in cohort-1: the primary's row wins
    clash, _ = invite("merged@example.test")
    moved, _ = invite("merged@example.test", prog=other_program)

    consented_merge(primary, secondary)

    assert not WalkthroughProgress.objects.filter(tester_email="merged@example.test").exists()
    assert not WalkthroughProgress.objects.filter(pk=clash.pk).exists()
    moved.refresh_from_db()
    assert moved.tester_email == "keeper@example.test"
    assert set(WalkthroughProgress.objects.values_list("tester_email", "program__name")) == {
        ("keeper@example.test", "cohort-1"), ("keeper@example.test", "cohort-2")}
