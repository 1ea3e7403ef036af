"""Celery tasks (CONTRACTS §4): thin wrappers over ``wcb.jobs`` and ``wcb.services``.

The EOD/EOM tasks plan a run and queue one ``wcb_job_batch`` task per batch;
any worker takes them. All are ``acks_late`` with ``reject_on_worker_lost``: a
worker killed mid-task gets its message redelivered, and ``wcb.jobs`` makes a
second delivery resume where the first one's last commit left off.
"""

from datetime import date

from celery import shared_task

from . import jobs
from .services import wcb_retention_prune

_DURABLE = {"acks_late": True, "reject_on_worker_lost": True}


def _as_of(as_of: str | None):
    return jobs.end_of_day_utc(date.fromisoformat(as_of)) if as_of else None


@shared_task(name="wcb.tasks.wcb_eod_job", soft_time_limit=20 * 60, time_limit=25 * 60, **_DURABLE)
def wcb_eod_job(as_of: str | None = None) -> dict:
    """22:00 UTC daily: finalize close-of-market snapshots (a duplicate fire does nothing)."""
    return jobs.run_scheduled("eod", now=_as_of(as_of)).as_dict()


@shared_task(name="wcb.tasks.wcb_eom_job", soft_time_limit=20 * 60, time_limit=25 * 60, **_DURABLE)
def wcb_eom_job(as_of: str | None = None) -> dict:
    """02:00 UTC daily; works on the first trading day of a month (and catches up a missed one)."""
    return jobs.run_scheduled("eom", now=_as_of(as_of)).as_dict()


@shared_task(name="wcb.tasks.wcb_job_batch", bind=True, soft_time_limit=20 * 60, time_limit=25 * 60, **_DURABLE)
def wcb_job_batch(self, batch_id: int) -> None:
    """One batch of an EOD/EOM run (a set of symbols); safe to deliver twice."""
    jobs.run_batch(batch_id, worker=self.request.hostname or "")


@shared_task(name="wcb.tasks.wcb_retention_prune", **_DURABLE)
def wcb_retention_prune_job() -> int:
    """03:30 UTC daily: snapshots of customers free for 90 days are deleted."""
    return wcb_retention_prune()
