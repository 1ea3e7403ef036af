from django.apps import AppConfig


class WcbConfig(AppConfig):
    name = "wcb"
    verbose_name = "What Could've Been"
    periodic_tasks = ()
