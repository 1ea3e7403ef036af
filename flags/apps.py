from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Feature flags"

    def ready(self):
        from . import checks, signals  # noqa: F401
