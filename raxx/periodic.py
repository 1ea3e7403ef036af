"""Periodic tasks are declared in code and synced into django-celery-beat.

Each app lists its jobs as ``periodic_tasks`` on its AppConfig. After every
``migrate`` (and with ``manage.py sync_periodic_tasks``) the rows in
django-celery-beat are created or brought in line with the code, except for
``enabled``, which belongs to the operators: a job paused in the admin stays
paused across deploys.
"""

from dataclasses import dataclass, field

from django.apps import apps


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str
    crontab: dict = field(default_factory=dict)  # minute, hour, day_of_week, day_of_month, month_of_year
    description: str = ""
    # Which fires owe a success (raxx.jobs staleness): "" every fire of the crontab;
    # "nyse_close" the first fire after each NYSE session's close; "nyse_month_start"
    # the first fire on the first NYSE session of each month.
    calendar: str = ""


def declared_jobs() -> list[PeriodicJob]:
    jobs = []
    for config in apps.get_app_configs():
        jobs.extend(getattr(config, "periodic_tasks", ()))
    return jobs


def sync_periodic_tasks(jobs: list[PeriodicJob] | None = None) -> list[str]:
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    changed = []
    for job in declared_jobs() if jobs is None else jobs:
        spec = {"minute": "0", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*",
                **{k: str(v) for k, v in job.crontab.items()}}
        schedule, _ = CrontabSchedule.objects.get_or_create(timezone="UTC", **spec)
        task, created = PeriodicTask.objects.get_or_create(
            name=job.name, defaults={"task": job.task, "crontab": schedule, "description": job.description})
        if not created and (task.task, task.crontab_id, task.description) != (job.task, schedule.id, job.description):
            task.task, task.crontab, task.description = job.task, schedule, job.description
            task.save(update_fields=["task", "crontab", "description"])
            changed.append(job.name)
        elif created:
            changed.append(job.name)
    return changed


def sync_after_migrate(sender, **kwargs):
    if sender.name == "raxx":
        from .jobs import track_declared_jobs

        sync_periodic_tasks()
        track_declared_jobs()
