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


def run_manage(*args: str) -> None:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "raxx.settings_test"}
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


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
