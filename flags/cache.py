"""The flag cache: waffle's cache alias, made safe against a lost invalidation.

Invariant (keep it when optimising the flag read path):

1. Every entry is stored as ``(generation, value)``, where ``generation`` is the
   token the reader saw *before* it read the database.
2. An entry is served only when its generation equals the current one, read in
   the same round trip (``get_many`` = one Redis MGET): one generation key,
   ``GENERATION_KEY``, covers every flag, switch and sample.
3. Every flag write replaces the generation twice: before the write (a change
   whose invalidation cannot be delivered is refused, nothing is written) and
   after the commit (readers that read the old row meanwhile tagged it with a
   dead generation). A replacement counts only once it is read back.
4. Entries expire after ``FLAGS_CACHE_TTL`` seconds whatever happens: the bound
   on staleness if the cache is lost between those two replacements (that case
   is reported loudly, never silent).

So a process that cannot reach the cache cannot change a flag (``FlagCacheUnreachable``),
and a process whose reads fail reads the database.

A request reads every registered flag at once: ``read_batch`` is one MGET of the
generation and each flag's entries (waffle's flag, users and groups keys), and while
``using(batch)`` is active (``flags.registry.flag_is_on``) waffle's reads of those keys
are answered from it. The batch lives on its request only (invariant 2 holds per request:
a change applies on the next one). raxx/request_cache.py folds this MGET into the one that
reads the customer's row.
"""

import logging
import threading
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

from raxx.logs import AtMostEvery

logger = logging.getLogger(__name__)

GENERATION_KEY = "flags:generation"


class FlagCacheUnreachable(RuntimeError):
    """The flag cache did not confirm an invalidation."""


_MISS = object()


@dataclass
class Batch:
    """One request's view of the flag cache: the generation and every registered flag's entries
    read with it (``_MISS`` where absent or of another generation)."""

    generation: str | None
    values: dict = field(default_factory=dict)


_batch: ContextVar[Batch | None] = ContextVar("flags_batch", default=None)


# waffle's settings naming a flag's three cache keys, after its CACHE_PREFIX (a tuple, not string
# literals: flags.checks reads every quoted FLAG_* word as a flag name)
_KEY_SETTINGS = ("CACHE_PREFIX", *(f"FLAG_{name}" for name in ("CACHE_KEY", "USERS_CACHE_KEY", "GROUPS_CACHE_KEY")))


def batch_keys() -> list[str]:
    """The generation and, for every flag in the registry, the keys waffle reads to evaluate it."""
    from waffle.utils import get_setting

    return _batch_keys(tuple(get_setting(name) for name in _KEY_SETTINGS))


@lru_cache(maxsize=4)
def _batch_keys(key_settings: tuple[str, ...]) -> list[str]:  # waffle's keyfmt hashes each key: once per process
    from waffle.utils import keyfmt

    from .registry import FLAGS

    keys = [GENERATION_KEY]
    for name in FLAGS:
        keys += [keyfmt(template, name) for template in key_settings[1:]]
    return keys


def batch_from(keys: list[str], found: dict) -> Batch:
    """The batch of an MGET of ``keys`` (``batch_keys()``, maybe among others) that answered ``found``."""
    generation = found.get(GENERATION_KEY)
    if generation is None:
        generation = start_generation(flag_cache().store)
    values = {key: entry_value(found.get(key), generation, _MISS) for key in keys if key != GENERATION_KEY}
    return Batch(generation, values)


def read_batch() -> Batch | None:
    """Every registered flag in one round trip; None when the flag cache is not a GenerationCache."""
    cache = flag_cache()
    if not isinstance(cache, GenerationCache):
        return None
    keys = batch_keys()
    try:
        found = _redis_read(cache.store, keys)
    except Exception:  # unreachable cache: every flag is read from the database
        _warn_unreachable()
        found = {}
    return batch_from(keys, found)


_unreachable_warning = AtMostEvery(10)  # once per 10 s per process, not once per request while it is down


def _warn_unreachable() -> None:
    if _unreachable_warning():
        logger.warning("flag cache unreachable on read; reading flags from the database")


def _redis_read(store, keys: list[str]) -> dict:
    """``store.get_many(keys)``; on django-redis, one MGET whose key names and entries (the same bytes
    every request until a flag changes) are made and decoded once per process, counted as the store
    counts its reads."""
    from django_redis.cache import RedisCache

    from raxx.metrics import cache_read
    from raxx.redis_io import decoded, made_keys, round_trip

    if not isinstance(store, RedisCache):
        return store.get_many(keys)
    label = getattr(store, "metrics_label", "flags")
    try:
        raws = round_trip(store.client.get_client(write=True), [("MGET", *made_keys(store, tuple(keys)))])[0]
    except Exception:
        cache_read(label, False, len(keys))  # every key a miss, as the store's get_many counted them
        raise
    found = {}
    for key, raw in zip(keys, raws, strict=True):
        value = None if raw is None else decoded(store, key, raw, remember=True)  # None: absent or unreadable
        if value is not None:
            found[key] = value
    cache_read(label, True, len(found))
    cache_read(label, False, len(keys) - len(found))
    return found


@contextmanager
def using(batch: Batch | None):
    """Answer waffle's reads of the batch's keys from ``batch`` inside this block."""
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)


class GenerationCache(BaseCache):
    """A cache alias over another alias (``LOCATION``), following the invariant above."""

    def __init__(self, location: str, params: dict):
        super().__init__(params)
        self._store_alias = location or "default"
        self._seen = threading.local()  # key -> generation read by this thread's last miss

    @property
    def store(self) -> BaseCache:
        return caches[self._store_alias]

    def _ttl(self, timeout):
        return getattr(settings, "FLAGS_CACHE_TTL", 10) if timeout is DEFAULT_TIMEOUT else timeout

    # -- reads ---------------------------------------------------------------
    # Keys go to the store as given (the store adds its own prefix); waffle never passes a version.
    def get(self, key, default=None, version=None):
        batch = _batch.get()
        if batch is not None and key in batch.values:
            self._remember(key, batch.generation)
            value = batch.values[key]
            return default if value is _MISS else value
        try:
            found = self.store.get_many([GENERATION_KEY, key])
        except Exception:  # unreachable cache: read the database, cache nothing
            logger.warning("flag cache unreachable on read; reading flags from the database")
            found = {}
        generation = found.get(GENERATION_KEY)
        if generation is None:
            generation = start_generation(self.store)
        self._remember(key, generation)
        return entry_value(found.get(key), generation, default)

    def _remember(self, key: str, generation: str | None) -> None:
        seen = getattr(self._seen, "keys", None)
        if seen is None:
            seen = self._seen.keys = {}
        seen[key] = generation

    # -- writes of entries (after a miss) --------------------------------------
    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        generation = getattr(self._seen, "keys", {}).pop(key, None)
        if generation is None:  # no generation seen before the database read: do not cache
            return False
        try:
            # set, not add: an entry of a dead generation must be replaceable
            self.store.set(key, (generation, value), timeout=self._ttl(timeout))
        except Exception:
            return False
        batch = _batch.get()
        if batch is not None and key in batch.values and batch.generation == generation:
            batch.values[key] = value  # the request's next check of this flag needs no database read
        return True

    add = set

    # -- invalidation -----------------------------------------------------------
    def delete(self, key, version=None):
        invalidate()
        return True

    def delete_many(self, keys, version=None):
        invalidate()

    def clear(self):
        invalidate()

    def has_key(self, key, version=None):
        return self.get(key, version=version) is not None

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return False

    def incr(self, key, delta=1, version=None):
        raise NotImplementedError("the flag cache holds no counters")


def start_generation(store: BaseCache, key: str = GENERATION_KEY) -> str | None:
    """No generation under ``key`` (first use, or evicted): create one; None when the cache is unreachable.
    (The flags' generation, and each customer's: raxx/customer_cache.py.)"""
    try:
        store.add(key, uuid.uuid4().hex, timeout=None)
        return store.get(key)
    except Exception:
        return None


def entry_value(entry, generation: str | None, default=None):
    """The value of a cached ``(generation, value)`` entry while it is of ``generation``, else ``default``
    (invariant 2: never an entry of another generation, never one read without a generation)."""
    if generation is not None and isinstance(entry, tuple) and len(entry) == 2 and entry[0] == generation:
        return entry[1]
    return default


def flag_cache() -> BaseCache:
    return caches[getattr(settings, "WAFFLE_CACHE_NAME", "default")]


def invalidate() -> None:
    """Start a new generation, confirmed by reading it back; raise ``FlagCacheUnreachable`` if not."""
    cache = flag_cache()
    store = cache.store if isinstance(cache, GenerationCache) else cache
    token = uuid.uuid4().hex
    try:
        store.set(GENERATION_KEY, token, timeout=None)
        confirmed = store.get(GENERATION_KEY) == token
    except Exception:
        confirmed = False
    if not confirmed:
        raise FlagCacheUnreachable(
            f"the flag cache ({_redacted_location(store)}) did not confirm the invalidation: is Redis reachable "
            "from this process? Other processes would keep serving the old flag state")


def _redacted_location(store: BaseCache) -> str:
    location = getattr(store, "_server", None) or getattr(store, "_dir", None) or type(store).__name__
    location = location[0] if isinstance(location, list | tuple) else str(location)
    if "@" in location:  # never print a password
        scheme, _, rest = location.partition("://")
        location = f"{scheme}://***@{rest.rpartition('@')[2]}"
    return location
