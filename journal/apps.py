from django.apps import AppConfig

from raxx.periodic import PeriodicJob


class JournalConfig(AppConfig):
    name = "journal"
    verbose_name = "Journal"
    periodic_tasks = (
        PeriodicJob(name="journal: lock sentiment labels", task="journal.tasks.lock_sentiment_labels",
                    crontab={"minute": "*/5"},
                    description="Locks sentiment labels whose trades closed 24 hours ago or earlier."),
    )
