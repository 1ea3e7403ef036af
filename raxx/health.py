"""``/healthz``: 200 when the database answers; says how cache and broker are."""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        from .errors import drop_broken_connections

        drop_broken_connections()  # a killed connection: the next probe reconnects
        return False


def cache_ok() -> bool:
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", 5)
        ok = cache.get(key) == "1"
        cache.delete(key)
        return ok
    except Exception:
        return False


def broker_ok() -> bool:
    from .celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
        return True
    except Exception:
        return False


def jobs_report() -> dict:
    from .jobs import healthz_jobs

    try:
        return healthz_jobs()
    except Exception:  # /healthz answers even when the job report cannot be built
        logger.exception("healthz: job report unavailable")
        from .errors import drop_broken_connections

        drop_broken_connections()  # a connection killed mid-report: the next request reconnects
        return {}


def healthz(request):
    db = database_ok()
    body = {"status": "ok" if db else "error", "database": db, "cache": cache_ok(), "broker": broker_ok(),
            "jobs": jobs_report() if db else {}}
    return JsonResponse(body, status=200 if db else 503)
