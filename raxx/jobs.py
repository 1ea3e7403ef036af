"""Health of every scheduled job (django-celery-beat ``PeriodicTask`` rows).

A simple version for the console dashboard: replaced by the ops branch at merge
(the same interface, with the CONTRACTS §11 staleness rule). Here ``stale`` is
always False and ``last_success`` is beat's last dispatch of the task.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone


@dataclass(frozen=True)
class JobHealth:
    name: str                      # the django-celery-beat PeriodicTask name
    task: str                      # dotted task path
    paused: bool                   # an operator unticked "enabled"
    last_success: datetime | None
    last_failure: datetime | None
    next_run: datetime | None
    stale: bool                    # never True while paused


def _next_run(task, now: datetime) -> datetime | None:
    if not task.enabled or task.crontab is None:
        return None
    schedule = task.crontab.schedule
    return now + schedule.remaining_estimate(task.last_run_at or now)


def job_health(*, now: datetime | None = None) -> list[JobHealth]:
    from django_celery_beat.models import PeriodicTask

    now = now or timezone.now()
    tasks = PeriodicTask.objects.select_related("crontab").exclude(name="celery.backend_cleanup").order_by("name")
    return [JobHealth(name=t.name, task=t.task, paused=not t.enabled, last_success=t.last_run_at,
                      last_failure=None, next_run=_next_run(t, now), stale=False)
            for t in tasks]
