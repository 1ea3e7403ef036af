"""The Celery app. Configuration lives in settings under ``CELERY_``.

With no ``CELERY_BROKER_URL`` the broker is a folder (kombu's filesystem
transport) shared by the server, the worker and beat on one machine; tests
run tasks eagerly.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raxx.settings")

app = Celery("raxx")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
