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
and a process whose reads fail reads the database. The cost per flag check is the
same single round trip as waffle's plain GET (two keys instead of one).
"""

import logging
import threading
import uuid

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

logger = logging.getLogger(__name__)

GENERATION_KEY = "flags:generation"


class FlagCacheUnreachable(RuntimeError):
    """The flag cache did not confirm an invalidation."""


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
        try:
            found = self.store.get_many([GENERATION_KEY, key])
        except Exception:  # unreachable cache: read the database, cache nothing
            logger.warning("flag cache unreachable on read; reading flags from the database")
            found = {}
        generation = found.get(GENERATION_KEY)
        if generation is None:
            generation = self._start_generation()
        self._remember(key, generation)
        entry = found.get(key)
        if generation is not None and isinstance(entry, tuple) and len(entry) == 2 and entry[0] == generation:
            return entry[1]
        return default

    def _start_generation(self) -> str | None:
        """No generation (first use, or evicted): create one; None when the cache is unreachable."""
        try:
            self.store.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            return self.store.get(GENERATION_KEY)
        except Exception:
            return None

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
