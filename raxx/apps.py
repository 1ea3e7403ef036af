from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules


class RaxxConfig(AppConfig):
    name = "raxx"
    verbose_name = "Customers and accounts"
    periodic_tasks = ()

    def ready(self):
        from . import checks, schema  # noqa: F401
        from .jobs import connect_signals
        from .logs import connect_celery_signals
        from .periodic import sync_after_migrate

        autodiscover_modules("customer_data")
        self._register_core_customer_data()
        post_migrate.connect(sync_after_migrate, dispatch_uid="raxx.sync_periodic_tasks")
        connect_signals()
        connect_celery_signals()

    @staticmethod
    def _register_core_customer_data():
        from .customer_data import OnMerge, register
        from .models import AuditEvent

        register(AuditEvent, field="customer", on_merge=OnMerge.KEEP,
                 note="An account's history stays with it; erasure deletes it and leaves one dsr_erased event.")
