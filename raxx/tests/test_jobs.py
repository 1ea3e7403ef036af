"""Job staleness (CONTRACTS §11): owed runs from the schedule and the NYSE calendar, frozen clocks."""

import logging
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from raxx.jobs import Cron, job_health, owed_fire
from raxx.models import JobRunRecord

pytestmark = pytest.mark.django_db

EOD, EOM, LOCK, PURGE = "wcb: EOD job", "wcb: EOM job", "journal: lock sentiment labels", "walkthrough-purge"
TASKS = {EOD: "wcb.tasks.wcb_eod_job", EOM: "wcb.tasks.wcb_eom_job", LOCK: "journal.tasks.lock_sentiment_labels",
         PURGE: "walkthrough.tasks.walkthrough_purge"}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


def track(name: str, *, since=utc(2026, 1, 1), last_success=None, **fields) -> JobRunRecord:
    record, _ = JobRunRecord.objects.update_or_create(
        task=TASKS[name], defaults={"tracked_since": since, "last_success": last_success, "alerted_for": None,
                                    "paused_at": None, **fields})
    return record


def health(name: str, now: datetime):
    return {job.name: job for job in job_health(now=now)}[name]


# --- EOD: after each session's close ------------------------------------------------------

def test_eod_over_a_weekend_owes_nothing_after_fridays_run():
    track(EOD, last_success=utc(2026, 11, 20, 22, 0, 4))  # Friday's 22:00 UTC fire succeeded
    for now in (utc(2026, 11, 21, 23, 30), utc(2026, 11, 22, 23, 30), utc(2026, 11, 23, 22, 59)):
        assert health(EOD, now).stale is False, now


def test_eod_missing_mondays_run_is_stale_after_the_grace():
    track(EOD, last_success=utc(2026, 11, 20, 22, 0, 4))
    job = health(EOD, utc(2026, 11, 23, 23, 0, 1))  # Monday 22:00 + 3600 s grace has passed
    assert job.stale is True and job.owed_since == utc(2026, 11, 23, 22, 0)


def test_eod_missing_fridays_run_is_stale_on_saturday_and_caught_up_by_saturdays_run():
    track(EOD, last_success=utc(2026, 11, 19, 22, 0, 4))  # Thursday
    assert health(EOD, utc(2026, 11, 20, 22, 30)).stale is False  # within the grace
    assert health(EOD, utc(2026, 11, 21, 0, 0)).stale is True
    track(EOD, last_success=utc(2026, 11, 21, 22, 0, 9))  # Saturday's fire finalizes Friday's session
    assert health(EOD, utc(2026, 11, 22, 12, 0)).stale is False


def test_eod_thanksgiving_owes_nothing_and_the_early_close_owes_the_usual_fire():
    track(EOD, last_success=utc(2026, 11, 25, 22, 0, 4))  # Wednesday
    assert health(EOD, utc(2026, 11, 26, 23, 30)).stale is False  # Thanksgiving: no session
    job = health(EOD, utc(2026, 11, 27, 23, 30))  # Friday, closed 13:00 ET
    assert job.stale is True and job.owed_since == utc(2026, 11, 27, 22, 0)


def test_an_hourly_job_after_the_close_owes_the_first_fire_after_an_early_close():
    hourly = Cron.from_fields(minute="0")
    assert owed_fire(hourly, "nyse_close", by=utc(2026, 11, 27, 23, 0)) == utc(2026, 11, 27, 18, 0)  # 13:00 ET
    assert owed_fire(hourly, "nyse_close", by=utc(2026, 11, 25, 23, 0)) == utc(2026, 11, 25, 21, 0)  # 16:00 EST
    assert owed_fire(hourly, "nyse_close", by=utc(2026, 7, 1, 23, 0)) == utc(2026, 7, 1, 20, 0)  # 16:00 EDT
    assert owed_fire(hourly, "nyse_close", by=utc(2026, 11, 26, 23, 0)) == utc(2026, 11, 25, 21, 0)  # holiday


# --- EOM: the first session of a month ----------------------------------------------------

def test_eom_owes_the_fire_on_the_first_session_of_the_month():
    track(EOM, last_success=utc(2026, 11, 30, 2, 0, 3))
    assert health(EOM, utc(2026, 12, 1, 2, 30)).stale is False  # grace
    job = health(EOM, utc(2026, 12, 1, 3, 0, 1))
    assert job.stale is True and job.owed_since == utc(2026, 12, 1, 2, 0)
    track(EOM, last_success=utc(2026, 12, 1, 2, 0, 5))
    assert health(EOM, utc(2026, 12, 20, 12, 0)).stale is False


def test_eom_when_the_month_starts_with_a_holiday_and_a_weekend():
    # 2027-01-01 is a holiday (Friday); the first session of January is Monday the 4th.
    track(EOM, last_success=utc(2026, 12, 1, 2, 0, 5))
    assert health(EOM, utc(2027, 1, 2, 12, 0)).stale is False
    assert health(EOM, utc(2027, 1, 4, 2, 59)).stale is False
    job = health(EOM, utc(2027, 1, 4, 3, 1))
    assert job.stale is True and job.owed_since == utc(2027, 1, 4, 2, 0)


def test_daily_skipped_eom_fires_do_not_count_for_the_month_start():
    track(EOM, last_success=utc(2027, 1, 3, 2, 0, 2))  # Sunday's fire did nothing, successfully
    assert health(EOM, utc(2027, 1, 4, 3, 1)).stale is True


# --- lock and purge: their crontab ----------------------------------------------------------

def test_lock_job_every_five_minutes():
    now = utc(2026, 12, 1, 12, 0)
    track(LOCK, last_success=now - timedelta(minutes=30))
    assert health(LOCK, now).stale is False
    track(LOCK, last_success=now - timedelta(minutes=66))
    job = health(LOCK, now)
    assert job.stale is True and job.owed_since == utc(2026, 12, 1, 11, 0)
    assert job.next_run == utc(2026, 12, 1, 12, 5)


def test_purge_job_daily_at_0315():
    track(PURGE, last_success=utc(2026, 11, 30, 3, 15, 2))
    assert health(PURGE, utc(2026, 12, 1, 4, 14)).stale is False
    assert health(PURGE, utc(2026, 12, 1, 4, 16)).stale is True


def test_grace_is_a_setting(settings):
    settings.JOB_STALE_GRACE_S = 60
    track(PURGE, last_success=utc(2026, 11, 30, 3, 15, 2))
    assert health(PURGE, utc(2026, 12, 1, 3, 17)).stale is True


def test_a_job_never_run_is_stale_once_a_run_was_owed_since_it_was_tracked():
    track(PURGE, since=utc(2026, 11, 30, 12, 0), last_success=None)
    assert health(PURGE, utc(2026, 12, 1, 3, 0)).stale is False  # nothing owed yet
    job = health(PURGE, utc(2026, 12, 1, 5, 0))
    assert job.stale is True and job.last_success is None


def test_runs_owed_before_the_job_was_tracked_owe_nothing():
    track(EOD, since=utc(2026, 11, 23, 22, 30), last_success=None)  # deployed after Monday's fire
    assert health(EOD, utc(2026, 11, 23, 23, 59)).stale is False


# --- paused -----------------------------------------------------------------------------------

def test_a_paused_job_is_paused_not_stale_and_resuming_starts_afresh():
    track(LOCK, last_success=utc(2026, 11, 1))
    PeriodicTask.objects.filter(name=LOCK).update(enabled=False)
    job = health(LOCK, utc(2026, 12, 1, 12, 0))
    assert (job.paused, job.stale, job.next_run) == (True, False, None)
    PeriodicTask.objects.filter(name=LOCK).update(enabled=True)
    assert health(LOCK, utc(2026, 12, 1, 12, 1)).stale is False  # the missed runs were the operator's call
    assert JobRunRecord.objects.get(task=TASKS[LOCK]).tracked_since == utc(2026, 12, 1, 12, 1)
    assert health(LOCK, utc(2026, 12, 1, 13, 10)).stale is True  # and from then on it owes runs again


# --- ERROR once per missed run ------------------------------------------------------------------

def test_a_stale_job_logs_error_once_per_missed_run(caplog):
    track(PURGE, last_success=utc(2026, 11, 29, 3, 15, 2))
    caplog.set_level(logging.ERROR, logger="raxx.jobs")
    for minute in range(5):
        health(PURGE, utc(2026, 12, 1, 12, minute))
    def errors():
        return [r for r in caplog.records if r.levelno == logging.ERROR and "walkthrough-purge" in r.getMessage()]

    assert len(errors()) == 1
    health(PURGE, utc(2026, 12, 2, 5, 0))  # the next day's run is missed too: one more line
    health(PURGE, utc(2026, 12, 2, 6, 0))
    assert len(errors()) == 2


# --- where successes come from -------------------------------------------------------------------

def test_a_celery_run_records_its_success_and_failure(monkeypatch):
    from journal import tasks

    track(LOCK, last_success=None)
    tasks.lock_sentiment_labels.delay()
    record = JobRunRecord.objects.get(task=TASKS[LOCK])
    assert record.last_success is not None and record.last_run_id

    def broken():
        raise RuntimeError("database said no")

    monkeypatch.setattr(tasks, "sentiment_labels_lock_due", broken)
    result = tasks.lock_sentiment_labels.apply(throw=False)  # as a worker runs it: failure signalled, not raised
    assert result.failed()
    record.refresh_from_db()
    assert record.last_failure is not None and record.last_error == "RuntimeError"


def test_a_manual_wcb_run_counts_as_the_jobs_success():
    from django.core.management import call_command

    track(EOD, last_success=None)
    call_command("wcb_run", "eod")
    assert JobRunRecord.objects.get(task=TASKS[EOD]).last_success is not None


def test_migrate_tracks_every_declared_job():
    assert set(JobRunRecord.objects.values_list("task", flat=True)) >= set(TASKS.values())


# --- /healthz and /metrics --------------------------------------------------------------------

def test_healthz_reports_jobs_and_stays_200_when_one_is_stale(client):
    now = timezone.now()
    track(LOCK, since=now - timedelta(days=3), last_success=now - timedelta(hours=3))
    track(PURGE, since=now - timedelta(days=3), last_success=now - timedelta(minutes=5))
    response = client.get("/healthz")
    assert response.status_code == 200
    jobs = response.json()["jobs"]
    assert jobs[LOCK]["stale"] is True and jobs[LOCK]["paused"] is False
    assert jobs[LOCK]["last_success"].endswith("Z")
    assert jobs[PURGE] == {"last_success": jobs[PURGE]["last_success"], "stale": False, "paused": False}
    assert set(jobs) == {EOD, EOM, LOCK, PURGE, "wcb: retention prune", "raxx: purge expired idempotency keys",
                         "accounts: expire merge requests"}


def test_healthz_reports_a_paused_job(client):
    PeriodicTask.objects.filter(name=EOD).update(enabled=False)
    assert client.get("/healthz").json()["jobs"][EOD] == {"last_success": None, "stale": False, "paused": True}


def test_a_stale_job_is_a_metric(client):
    now = timezone.now()
    track(LOCK, since=now - timedelta(days=3), last_success=now - timedelta(hours=3))
    text = client.get("/metrics").content.decode()
    assert 'raxx_job_stale{job="journal: lock sentiment labels"} 1.0' in text
    assert 'raxx_job_stale{job="walkthrough-purge"} 0.0' in text
