"""Cache backends that count hits and misses of their ``get`` (the ``flags`` cache alias).

waffle reads its flags through ``WAFFLE_CACHE_NAME``; pointing that at an alias
with the same location as ``default`` but one of these backends counts every
flag read (``raxx_cache_requests_total{cache="flags"}``) without touching waffle.
A ``None`` from the cache counts as a miss: django-redis answers ``None`` when
Redis is down, and waffle then reads the database.
"""

from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache

from .metrics import cache_read

_MISSING = object()


class _Counting:
    metrics_label = "flags"

    def get(self, key, default=None, version=None):
        value = super().get(key, _MISSING, version=version)
        cache_read(self.metrics_label, value is not _MISSING and value is not None)
        return default if value is _MISSING else value

    def get_many(self, keys, version=None):  # one round trip: flags and their generation (and the customer row)
        found = super().get_many(keys, version=version)
        for key in keys:
            cache_read("customers" if key.startswith("customer:") else self.metrics_label, found.get(key) is not None)
        return found


class CountingRedisCache(_Counting, RedisCache):
    pass


class CountingFileBasedCache(_Counting, FileBasedCache):
    pass


class CountingLocMemCache(_Counting, LocMemCache):
    pass

