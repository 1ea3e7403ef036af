"""Celery tasks (CONTRACTS §4): thin wrappers over ``wcb.jobs`` and ``wcb.services``."""

from datetime import date

from celery import shared_task

from . import jobs
from .services import wcb_retention_prune


def _as_of(as_of: str | None):
    return jobs.end_of_day_utc(date.fromisoformat(as_of)) if as_of else None


@shared_task(name="wcb.tasks.wcb_eod_job", acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60)
def wcb_eod_job(as_of: str | None = None) -> dict:
    """22:00 UTC daily: finalize close-of-market snapshots (a duplicate fire does nothing)."""
    return jobs.run_scheduled("eod", now=_as_of(as_of)).as_dict()


@shared_task(name="wcb.tasks.wcb_eom_job", acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60)
def wcb_eom_job(as_of: str | None = None) -> dict:
    """02:00 UTC daily; works on the first trading day of a month (and catches up a missed one)."""
    return jobs.run_scheduled("eom", now=_as_of(as_of)).as_dict()


@shared_task(name="wcb.tasks.wcb_retention_prune", acks_late=True)
def wcb_retention_prune_job() -> int:
    """03:30 UTC daily: snapshots of customers free for 90 days are deleted."""
    return wcb_retention_prune()
