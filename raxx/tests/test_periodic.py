import io

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from raxx.periodic import PeriodicJob, declared_jobs, sync_periodic_tasks

pytestmark = pytest.mark.django_db

JOB = PeriodicJob(name="demo: tidy", task="raxx.tests.tidy", crontab={"minute": "*/5"}, description="tidy up")


def test_sync_creates_rows():
    assert sync_periodic_tasks([JOB]) == ["demo: tidy"]
    task = PeriodicTask.objects.get(name="demo: tidy")
    assert (task.task, task.enabled, task.crontab.minute, task.crontab.hour, task.description) == (
        "raxx.tests.tidy", True, "*/5", "*", "tidy up")
    assert sync_periodic_tasks([JOB]) == []  # nothing to do the second time


def test_resync_keeps_an_operators_pause():
    sync_periodic_tasks([JOB])
    PeriodicTask.objects.filter(name=JOB.name).update(enabled=False)
    sync_periodic_tasks([JOB])
    assert PeriodicTask.objects.get(name=JOB.name).enabled is False


def test_resync_updates_a_changed_schedule_and_task():
    sync_periodic_tasks([JOB])
    PeriodicTask.objects.filter(name=JOB.name).update(enabled=False)
    changed = PeriodicJob(name=JOB.name, task="raxx.tests.tidy_v2", crontab={"minute": "0", "hour": "3"})
    assert sync_periodic_tasks([changed]) == [JOB.name]
    task = PeriodicTask.objects.get(name=JOB.name)
    assert (task.task, task.crontab.minute, task.crontab.hour, task.enabled) == ("raxx.tests.tidy_v2", "0", "3", False)


def test_migrate_synced_every_declared_job():
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= {job.name for job in declared_jobs()}


def test_command_reports_what_it_did():
    out = io.StringIO()
    call_command("sync_periodic_tasks", stdout=out)
    assert "periodic tasks declared" in out.getvalue()
