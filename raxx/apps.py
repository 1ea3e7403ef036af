from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save, pre_delete, pre_save
from django.utils.module_loading import autodiscover_modules

from .periodic import PeriodicJob


class RaxxConfig(AppConfig):
    name = "raxx"
    verbose_name = "Customers and accounts"
    periodic_tasks = (
        PeriodicJob(name="raxx: purge expired idempotency keys", task="raxx.tasks.purge_idempotency_keys",
                    crontab={"minute": "17"},
                    description="Deletes Idempotency-Key records older than 24 hours."),
        PeriodicJob(name="accounts: expire merge requests", task="raxx.tasks.expire_merge_requests",
                    crontab={"minute": "15", "hour": "*"},
                    description="Close merge requests past their 7-day expiry (CONTRACTS §9)."),
    )

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
        from .customer_data import OnMerge, register, register_cache_keys
        from . import customer_cache
        from .models import AuditEvent, Customer, IdempotencyKey, MergeRequest
        from .throttling import customer_counter_keys

        register_cache_keys("rate_limits", customer_counter_keys)
        register_cache_keys("customer_row", customer_cache.keys_of)
        for name, signal, receiver in (  # a cached row is never served once its row changed
                ("pre_save", pre_save, customer_cache.before_customer_saved),
                ("pre_delete", pre_delete, customer_cache.before_customer_saved),
                ("post_save", post_save, customer_cache.after_customer_saved),
                ("post_delete", post_delete, customer_cache.after_customer_saved)):
            signal.connect(receiver, sender=Customer, dispatch_uid=f"customer_cache.{name}")

        register(AuditEvent, field="customer", on_merge=OnMerge.KEEP,
                 note="An account's history stays with it; erasure deletes it and leaves one dsr_erased event.")
        register(IdempotencyKey, field="customer", on_merge=OnMerge.DELETE,
                 note="Retry keys and the first response of each (24 h): the secondary's are dropped on a "
                      "merge (its keys mean nothing to the primary's clients), erased with the customer.")
        for side in ("primary", "secondary"):
            register(MergeRequest, field=side, on_merge=OnMerge.KEEP,
                     note="Merge requests are evidence of the account they name; erasure deletes them "
                          "(their reason is free text).")
