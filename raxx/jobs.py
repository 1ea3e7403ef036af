"""Is every periodic job keeping up? (CONTRACTS §11)

A job is *stale* when a fire that its schedule (and, for the WCB jobs, the NYSE
calendar) says should have succeeded by now, plus ``JOB_STALE_GRACE_S``, has no
success at or after it. Which fires owe a success is the job's ``calendar``
(``raxx.periodic.PeriodicJob``):

- ``""``: every fire of the crontab (the lock job every 5 min, the purges daily);
- ``"nyse_close"``: the first fire after each NYSE session's close (EOD: weekends
  and holidays owe nothing, an early close owes the same 22:00 UTC fire);
- ``"nyse_month_start"``: the first fire on the first session of a month (EOM).

Successes come from Celery's ``task_success``/``task_failure`` signals (any
worker, eager runs too) and from manual WCB runs, into one ``JobRunRecord`` row
per task. A paused job (an operator unticked *enabled*) is reported paused and
never stale; fires owed before a job was tracked, or while it was paused, owe
nothing. A stale job logs ERROR once per missed fire: the first process to move
``alerted_for`` to that fire (a conditional UPDATE) logs it, every other call
sees the row already moved.

The crontab fields are parsed by Celery's own ``crontab`` (the same expansion
beat uses); walking fires backwards and forwards day by day is done here because
neither Celery nor django-celery-beat offers "the last fire before t".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .periodic import PeriodicJob, declared_jobs

logger = logging.getLogger("raxx.jobs")

UTC = dt_timezone.utc
_SEARCH_DAYS = 400  # a crontab fires at least once a year, or it is not a schedule


@dataclass(frozen=True)
class JobHealth:
    name: str                      # the django-celery-beat PeriodicTask name
    task: str                      # dotted task path
    paused: bool                   # an operator unticked "enabled"
    last_success: datetime | None
    last_failure: datetime | None
    next_run: datetime | None
    stale: bool                    # never True while paused
    owed_since: datetime | None = None  # the fire whose success is missing (stale only)


# --- the schedule ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_week: frozenset[int]   # 0 = Sunday, as cron
    days_of_month: frozenset[int]
    months: frozenset[int]
    tz: ZoneInfo

    @classmethod
    def from_fields(cls, *, minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*",
                    tz: str = "UTC") -> Cron:
        from celery.schedules import crontab

        c = crontab(minute=minute, hour=hour, day_of_week=day_of_week, day_of_month=day_of_month,
                    month_of_year=month_of_year)
        return cls(tuple(sorted(c.minute)), tuple(sorted(c.hour)), frozenset(c.day_of_week),
                   frozenset(c.day_of_month), frozenset(c.month_of_year), ZoneInfo(str(tz or "UTC")))

    def _day_matches(self, day: date) -> bool:
        return (day.month in self.months and day.day in self.days_of_month
                and day.isoweekday() % 7 in self.days_of_week)

    def _fires_on(self, day: date) -> list[datetime]:
        if not self._day_matches(day):
            return []
        return [datetime.combine(day, time(h, m), tzinfo=self.tz).astimezone(UTC)
                for h in self.hours for m in self.minutes]

    def fires_before(self, moment: datetime) -> Iterator[datetime]:
        """Fires at or before ``moment``, newest first."""
        day = moment.astimezone(self.tz).date()
        for _ in range(_SEARCH_DAYS):
            for fire in reversed(self._fires_on(day)):
                if fire <= moment:
                    yield fire
            day -= timedelta(days=1)

    def first_fire_from(self, moment: datetime) -> datetime | None:
        """The first fire at or after ``moment``."""
        day = moment.astimezone(self.tz).date()
        for _ in range(_SEARCH_DAYS):
            for fire in self._fires_on(day):
                if fire >= moment:
                    return fire
            day += timedelta(days=1)
        return None


def _cron_of(task) -> Cron | None:
    c = task.crontab
    if c is None:
        return None
    return Cron.from_fields(minute=c.minute, hour=c.hour, day_of_week=c.day_of_week,
                            day_of_month=c.day_of_month, month_of_year=c.month_of_year, tz=str(c.timezone))


def owed_fire(cron: Cron, calendar: str, *, by: datetime) -> datetime | None:
    """The latest fire at or before ``by`` that owes a success (None if none is known)."""
    from wcb import calendar as nyse

    if calendar == "nyse_close":
        session = nyse.last_completed_session(by)
        for _ in range(10):  # a few sessions back at most: a daily fire follows every close
            if session is None:
                return None
            fire = cron.first_fire_from(nyse.session_close_utc(session))
            if fire is not None and fire <= by:
                return fire
            session = nyse.previous_session(session)
        return None
    if calendar == "nyse_month_start":
        month = by.astimezone(UTC).date()
        for _ in range(3):
            first = nyse.first_session_of_month(month)
            fire = cron.first_fire_from(datetime.combine(first, time(0), tzinfo=UTC))
            if fire is not None and fire <= by:
                return fire
            month = month.replace(day=1) - timedelta(days=1)
        return None
    if calendar:
        raise ValueError(f"unknown job calendar {calendar!r}")
    return next(cron.fires_before(by), None)


def _owed_interval(task, last_success, baseline, *, by: datetime) -> datetime | None:
    """An interval schedule owes a success every period since the last one (or the baseline)."""
    every = task.interval.schedule.run_every
    start = last_success or baseline
    return start + every if start + every <= by else None


# --- records (written by signals and manual runs) -------------------------------------


def _declared_by_task() -> dict[str, PeriodicJob]:
    return {job.task: job for job in declared_jobs()}


def track_declared_jobs(*, now: datetime | None = None) -> None:
    """After every migrate: a record per declared job, tracked from now on if new."""
    from .models import JobRunRecord

    now = now or timezone.now()
    for job in declared_jobs():
        JobRunRecord.objects.get_or_create(task=job.task, defaults={"tracked_since": now})


def record_run(*, task: str, ok: bool, run_id: str = "", error: str = "", at: datetime | None = None) -> None:
    """The last success or failure of a declared job (other tasks are not tracked)."""
    from .models import JobRunRecord

    if task not in _declared_by_task():
        return
    at = at or timezone.now()
    fields = {"last_run_id": run_id[:64]}
    if ok:
        fields["last_success"] = at
    else:
        fields.update(last_failure=at, last_error=error[:200])
    if not JobRunRecord.objects.filter(task=task).update(**fields):
        JobRunRecord.objects.get_or_create(task=task, defaults={"tracked_since": at, **fields})


# --- the report -----------------------------------------------------------------------


def _grace() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "JOB_STALE_GRACE_S", 3600)))


def _reconcile_pause(record, *, paused: bool, now: datetime) -> datetime:
    """Keep ``paused_at``/``tracked_since`` in step with the operator's switch; the baseline.

    Fires owed while a job was paused owe nothing after it is resumed: resuming
    starts tracking afresh. Conditional UPDATEs: concurrent callers agree.
    """
    from .models import JobRunRecord

    if paused and record.paused_at is None:
        JobRunRecord.objects.filter(pk=record.pk, paused_at__isnull=True).update(paused_at=now)
    elif not paused and record.paused_at is not None:
        JobRunRecord.objects.filter(pk=record.pk, paused_at=record.paused_at).update(paused_at=None, tracked_since=now)
        return now
    return record.tracked_since


def _alert_once(record, *, name: str, owed: datetime, now: datetime) -> None:
    from .models import JobRunRecord

    moved = JobRunRecord.objects.filter(pk=record.pk).filter(
        Q(alerted_for__isnull=True) | Q(alerted_for__lt=owed)).update(alerted_for=owed)
    if moved:
        last = record.last_success.isoformat() if record.last_success else "never"
        logger.error("job %s is stale: the run due at %s has not succeeded (last success %s)",
                     name, owed.isoformat(), last, extra={"job": name, "owed_run": owed.isoformat()})


def job_health(*, now: datetime | None = None) -> list[JobHealth]:
    """Every declared periodic job that is scheduled in django-celery-beat, by name."""
    from django_celery_beat.models import PeriodicTask

    from .models import JobRunRecord

    now = now or timezone.now()
    declared = _declared_by_task()
    tasks = list(PeriodicTask.objects.filter(task__in=declared).select_related("crontab", "interval")
                 .order_by("name"))
    records = {r.task: r for r in JobRunRecord.objects.filter(task__in=declared)}
    report = []
    for task in tasks:
        record = records.get(task.task)
        paused = not task.enabled
        cron = _cron_of(task)
        owed = None
        if record is not None:
            baseline = _reconcile_pause(record, paused=paused, now=now)
            if not paused:
                by = now - _grace()
                if cron is not None:
                    owed = owed_fire(cron, declared[task.task].calendar, by=by)
                elif task.interval is not None:
                    owed = _owed_interval(task, record.last_success, baseline, by=by)
                if owed is not None and (owed < baseline or (record.last_success and record.last_success >= owed)):
                    owed = None
                if owed is not None:
                    _alert_once(record, name=task.name, owed=owed, now=now)
        next_run = None
        if not paused:
            next_run = cron.first_fire_from(now + timedelta(seconds=1)) if cron else (
                (task.last_run_at or now) + task.interval.schedule.run_every if task.interval else None)
        report.append(JobHealth(
            name=task.name, task=task.task, paused=paused,
            last_success=record.last_success if record else None,
            last_failure=record.last_failure if record else None,
            next_run=next_run, stale=owed is not None, owed_since=owed))
    return report


def iso_z(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def healthz_jobs(*, now: datetime | None = None) -> dict:
    return {job.name: {"last_success": iso_z(job.last_success), "stale": job.stale, "paused": job.paused}
            for job in job_health(now=now)}


# --- Celery signals -------------------------------------------------------------------


def _on_task_success(sender=None, **kwargs):
    _record_from_signal(sender, ok=True)


def _on_task_failure(sender=None, exception=None, **kwargs):
    _record_from_signal(sender, ok=False, error=type(exception).__name__ if exception else "")


def _record_from_signal(task, *, ok: bool, error: str = "") -> None:
    if task is None:
        return
    try:
        record_run(task=task.name, ok=ok, run_id=str(getattr(task.request, "id", "") or ""), error=error)
    except Exception:  # the record must never turn a run into a failure
        logger.exception("could not record the outcome of %s", task.name)


def connect_signals() -> None:
    from celery import signals

    signals.task_success.connect(_on_task_success, dispatch_uid="raxx.jobs.task_success", weak=False)
    signals.task_failure.connect(_on_task_failure, dispatch_uid="raxx.jobs.task_failure", weak=False)
