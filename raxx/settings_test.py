"""Test settings: the real settings, with what a single test process needs.

The database and Redis come from the environment exactly as in production
(``.ci/run`` sets ``DATABASE_URL`` and ``REDIS_URL``). Without Redis a
per-process memory cache is right here: a test run is one process.
"""

import os

from .settings import *  # noqa: F401,F403
from .settings import CACHES, REDIS_URL

if not REDIS_URL:
    CACHES = {**CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "KEY_PREFIX": "raxx"}}
else:
    # One prefix per pytest-xdist worker: workers sharing a Redis db never see each other's flags,
    # customer rows or counters (each worker's cache.clear() still flushes the db: give a run its own).
    CACHES["default"]["KEY_PREFIX"] = f"raxx-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
# The flag store (under flags/cache.py's "flags" alias): the default cache, its reads counted.
CACHES["flags_store"] = {**CACHES["default"], "BACKEND": CACHES["default"]["BACKEND"].replace(
    "django_redis.cache.RedisCache", "raxx.cache_metrics.CountingRedisCache").replace(
    "django.core.cache.backends.locmem.LocMemCache", "raxx.cache_metrics.CountingLocMemCache")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
# Test-only tables shaped like every kind of customer data (accounts engine tests and bench).
INSTALLED_APPS = [*INSTALLED_APPS, "raxx.tests.accounts_testapp"]  # noqa: F405
