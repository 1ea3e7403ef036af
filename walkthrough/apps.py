from django.apps import AppConfig


class WalkthroughConfig(AppConfig):
    name = "walkthrough"
    verbose_name = "Beta walkthrough"
    periodic_tasks = ()
