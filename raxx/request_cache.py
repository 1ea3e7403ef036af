"""One cache round trip per customer request: the customer's row, every flag and the rate limits.

After the JWT is verified, ``prefetch`` sends, in one Redis round trip (raxx/redis_io.py):

- an MGET of the flag generation and every registered flag's entries (flags/cache.py),
  and of the customer's generation and cached row (raxx/customer_cache.py);
- the customer's rate-limit counters (raxx/throttling.py: ``SET NX EX`` + ``INCR``).

A view may add keys of its own (``prefetch_cache_keys``; e.g. the WCB render's cached
trajectory), read in the same MGET and handed to it by ``prefetched(request)``.

The flag part becomes the request's flag batch (``flags.registry.flag_is_on`` answers
from it), the counts the request's throttle decision, and the customer part is served
only when its generation matches: nothing is older than the request. Other cache
backends (the embedded default's file cache, a test's memory cache) take one
``get_many`` and the throttle's own calls instead.
"""

import logging
import uuid

from django.core.cache import caches
from django.core.cache.backends.base import InvalidCacheBackendError
from django_redis.cache import RedisCache

from flags.cache import GenerationCache, batch_from, batch_keys, flag_cache

from . import customer_cache, throttling
from .metrics import cache_read
from .models import Customer
from .redis_io import decoded, made_keys, round_trip

logger = logging.getLogger(__name__)


def prefetch(request, customer_id: uuid.UUID) -> tuple[Customer | None, str | None]:
    """(the cached customer or None, the customer generation read); sets the request's flag batch and,
    on Redis, its rate-limit counts."""
    store = customer_cache.store()
    flags = isinstance(_flag_cache(), GenerationCache)
    flag_keys = batch_keys() if flags else []
    gen_key, row_key = customer_cache.generation_key(customer_id), customer_cache.row_key(customer_id)
    view_keys = _view_keys(request)
    http_request = getattr(request, "_request", request)
    if isinstance(store, RedisCache) and throttling.uses_redis():
        found = _pipeline(store, flag_keys, [gen_key, row_key, *view_keys], request, customer_id, http_request)
    else:
        try:
            found = store.get_many([*flag_keys, gen_key, row_key])
            if view_keys:  # the default cache, so the flag store's read counter counts only flags and customers
                found |= caches["default"].get_many(view_keys)
        except Exception:  # noqa: BLE001 - an unreachable cache: the database answers
            logger.warning("cache unreachable on read; reading the customer and flags from the database")
            found = None
    if found is None:  # not read: the view reads its keys itself
        found = {}
    elif view_keys:
        http_request.__dict__[_PREFETCHED] = {key: found.get(key) for key in view_keys}
    if flags:
        http_request.__dict__["_raxx_flag_batch"] = batch_from(flag_keys, found)
    generation = found.get(gen_key)
    if generation is None:
        generation = customer_cache.start_generation(customer_id)
    return customer_cache.from_entry(customer_id, generation, found.get(row_key)), generation


_PREFETCHED = "_raxx_prefetched"


def _view_keys(request) -> list[str]:
    """The cache keys the view asks to have read with the rest (``prefetch_cache_keys(request, **kwargs)``)."""
    context = getattr(request, "parser_context", None) or {}
    keys_for = getattr(context.get("view"), "prefetch_cache_keys", None)
    return list(keys_for(request, **(context.get("kwargs") or {}))) if keys_for is not None else []


def prefetched(request) -> dict:
    """The cache keys this request read for its view in the one round trip: key -> value, or None
    when absent (a miss, already known). Empty when the round trip did not happen or failed."""
    return getattr(request, "_request", request).__dict__.get(_PREFETCHED, {})


def _flag_cache():
    try:
        return flag_cache()
    except InvalidCacheBackendError:  # no flag cache configured: waffle's reads fail closed (flags.registry)
        return None


def _pipeline(store, flag_keys: list[str], other_keys: list[str], request, customer_id, http_request) -> dict | None:
    """The MGET of the flags' keys and ``other_keys`` (the customer's two, then the view's) and the
    rate-limit counts, in one round trip: key -> decoded value of those found; None when it failed."""
    counter_keys, windows = throttling.counters(throttling.request_limits(request, customer_id))
    keys = [*flag_keys, *other_keys]
    try:
        mget = ("MGET", *made_keys(store, tuple(flag_keys)), *(store.make_key(k) for k in other_keys))
        results = round_trip(store.client.get_client(write=True), [mget, *throttling.count_commands(counter_keys)])
    except Exception as exc:  # noqa: BLE001 - served from the database, limits not enforced (CONTRACTS §10)
        throttling.warn_cache_down(exc)
        http_request.__dict__[throttling.COUNTED] = (customer_id, None)
        return None
    http_request.__dict__[throttling.COUNTED] = (customer_id, throttling.longest_wait(windows, results[2::2]))
    found, hits = {}, {"flags": [0, 0], "customers": [0, 0]}
    for n, (key, raw) in enumerate(zip(keys, results[0], strict=True)):
        if n < len(flag_keys) + 2:  # the view's own keys are counted by the view's metric
            hits["customers" if n >= len(flag_keys) else "flags"][raw is None] += 1
        if raw is None:
            continue
        value = decoded(store, key, raw, remember=n < len(flag_keys))  # flags: a fixed set of keys, bounded
        if value is not None:
            found[key] = value
    for name, (hit, miss) in hits.items():
        cache_read(name, True, hit)
        cache_read(name, False, miss)
    return found
