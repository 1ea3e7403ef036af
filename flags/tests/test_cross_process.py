"""CONTRACTS §2: a flag changed by ``manage.py waffle_flag`` in another process
is seen by this process on its very next request (shared cache, no restart)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from waffle.models import Flag

from raxx.tests.helpers import PROBE_URLS

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, redis_url: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "raxx.settings_test"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.mark.postgres_only
@pytest.mark.urls(PROBE_URLS)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_waffle_flag_in_another_process_is_seen_on_the_next_request(api):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: without it the test settings use a process-local cache")
    Flag.objects.update_or_create(name="FLAG_WCB_ENABLED", defaults={"everyone": None})
    assert api.get("/api/probe/flagged").status_code == 404  # off, and now cached in Redis
    run_manage("waffle_flag", "FLAG_WCB_ENABLED", "--everyone")
    assert api.get("/api/probe/flagged").status_code == 200
    run_manage("waffle_flag", "FLAG_WCB_ENABLED", "--deactivate")
    assert api.get("/api/probe/flagged").status_code == 404


@pytest.mark.postgres_only
@pytest.mark.urls(PROBE_URLS)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_waffle_flag_from_a_process_that_cannot_reach_redis_is_refused_not_silently_stale(api):
    """Issue 11 defect 4: the changing process sees Redis on a closed port; this
    process (and every other) still reaches Redis and has the ON state cached."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: without it the test settings use a process-local cache")
    from flags.tests.test_flag_cache import closed_port
    from raxx.models import AuditEvent

    run_manage("waffle_flag", "FLAG_WCB_ENABLED", "--everyone")
    assert api.get("/api/probe/flagged").status_code == 200  # on, and now cached in Redis
    events = AuditEvent.objects.filter(event_type="flag_changed").count()

    result = run_manage("waffle_flag", "FLAG_WCB_ENABLED", "--deactivate",
                        redis_url=f"redis://127.0.0.1:{closed_port()}/6", check=False)
    assert result.returncode != 0
    assert "Refused, nothing was changed" in result.stderr and "is Redis reachable" in result.stderr
    # nothing written: what every process serves is still the truth in the database
    assert Flag.objects.get(name="FLAG_WCB_ENABLED").everyone is True
    assert AuditEvent.objects.filter(event_type="flag_changed").count() == events
    assert api.get("/api/probe/flagged").status_code == 200

    run_manage("waffle_flag", "FLAG_WCB_ENABLED", "--deactivate")  # reachable again: effective next request
    assert api.get("/api/probe/flagged").status_code == 404
