from django.apps import AppConfig

from raxx.periodic import PeriodicJob


class WalkthroughConfig(AppConfig):
    name = "walkthrough"
    verbose_name = "Beta walkthrough"
    periodic_tasks = (
        PeriodicJob(name="walkthrough-purge", task="walkthrough.tasks.walkthrough_purge",
                    crontab={"minute": "15", "hour": "3"},
                    description="Daily 03:15 UTC: delete beta_walkthrough_* rows 30 days after each tester's program ended."),
    )

    def ready(self):
        from . import schema  # noqa: F401  (registers the OpenAPI auth extension)
