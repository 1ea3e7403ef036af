"""The customer row of an authenticated request, cached without staleness.

Every customer request needs its ``customers`` row (is it tombstoned? provision it on first
sight; last seen). Reading it from PostgreSQL costs an ORM query plus a connection health
check; this cache serves it from the flag cache's store in the same round trip that reads
the flags (raxx/request_cache.py), under the invariant of flags/cache.py:

1. An entry is ``(generation, fields)``: ``generation`` is the customer's generation token
   (``customer:<id>:gen``) the reader saw *before* it read the database.
2. An entry is served only when its generation equals the current one, read in the same
   MGET.
3. Every change of the row (``invalidate``: the merge and erasure tombstones, any
   ``Customer.save``/``delete``) replaces the generation and deletes the entry before the
   write, confirmed by reading it back (unconfirmed: ``CustomerCacheUnreachable``, and the
   write is refused), and again after the commit.
4. Entries expire after ``CUSTOMER_CACHE_TTL`` seconds whatever happens.

So a tombstoned customer's token gets 401 on the very next request in every process, and
a process that cannot reach the cache reads the database. A tombstoned row is never cached.
"""

import logging
import uuid
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django_redis.cache import RedisCache

from flags import cache as flags_cache

from .models import Customer

logger = logging.getLogger(__name__)

_FIELDS = ("email", "created_at", "last_seen_at")


class CustomerCacheUnreachable(RuntimeError):
    """The cache did not confirm a customer invalidation: the change was refused."""


def generation_key(customer_id) -> str:
    return f"customer:{customer_id}:gen"


def row_key(customer_id) -> str:
    return f"customer:{customer_id}:row"


def keys_of(customer) -> list[str]:
    """Erasure's list of what this cache may hold about ``customer`` (raxx.customer_data)."""
    return [generation_key(customer.pk), row_key(customer.pk)]


def store():
    """The flag cache's store (so one MGET reads flags and customer), or the default cache without one."""
    from django.core.cache import caches
    from django.core.cache.backends.base import InvalidCacheBackendError

    try:
        cache = flags_cache.flag_cache()
    except InvalidCacheBackendError:
        return caches["default"]
    return getattr(cache, "store", cache)


def _ttl() -> int:
    return int(getattr(settings, "CUSTOMER_CACHE_TTL", 300))


def from_entry(customer_id: uuid.UUID, generation, entry) -> Customer | None:
    """The customer of a cached ``entry`` when it belongs to ``generation``, else None."""
    fields = flags_cache.entry_value(entry, generation)
    if not isinstance(fields, dict) or not all(isinstance(fields.get(f), datetime) for f in _FIELDS[1:]):
        return None
    customer = Customer(id=customer_id, tombstoned_at=None, **{f: fields.get(f) for f in _FIELDS})
    customer._state.adding = False
    customer._state.db = "default"
    return customer


def start_generation(customer_id) -> str | None:
    """No generation yet (first sight, or evicted): create one; None when the cache is unreachable."""
    return flags_cache.start_generation(store(), generation_key(customer_id))


def remember(customer: Customer, generation: str | None) -> None:
    """Cache ``customer`` (read from the database after ``generation`` was read) for the next requests."""
    from django.core.cache import cache as default_cache

    from .throttling import customer_counter_keys

    cache = store()
    try:
        if customer.is_tombstoned:  # never cached; and nothing about an erased account stays behind,
            # not even the rate-limit counters this request's one round trip counted (raxx/request_cache.py)
            cache.delete_many([row_key(customer.pk), generation_key(customer.pk)])
            default_cache.delete_many(customer_counter_keys(customer))
        elif generation is not None:
            _write_while_current(cache, customer.pk, generation, (generation, {f: getattr(customer, f) for f in _FIELDS}))
    except Exception:  # noqa: BLE001
        logger.warning("customer cache unreachable on write; the next request reads the database")


# Write the row only while the generation is still the one read (atomic on Redis): a reader slower than an
# erasure never puts the erased email back, even under a dead generation.
_WRITE_WHILE_CURRENT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
end
return 0
"""


def _write_while_current(cache, customer_id, generation: str, entry) -> None:
    if not isinstance(cache, RedisCache):  # the file / memory caches: one machine, a plain write
        cache.set(row_key(customer_id), entry, timeout=_ttl())
        return
    script = cache.client.get_client(write=True).register_script(_WRITE_WHILE_CURRENT)  # no round trip: EVALSHA
    script(keys=[cache.make_key(generation_key(customer_id)), cache.make_key(row_key(customer_id))],
           args=[cache.client.encode(generation, allow_int=False), cache.client.encode(entry, allow_int=False), _ttl()])


def _replace_generation(customer_id) -> bool:
    cache, token = store(), uuid.uuid4().hex
    try:
        cache.set(generation_key(customer_id), token, timeout=None)
        cache.delete(row_key(customer_id))
        return cache.get(generation_key(customer_id)) == token
    except Exception:  # noqa: BLE001
        return False


def invalidate(customer_id) -> None:
    """Inside the transaction that changes the customer's row, before the change: a new generation,
    confirmed, and again once it commits.

    Raises ``CustomerCacheUnreachable`` (nothing has been written) when the cache does not confirm.
    """
    if not transaction.get_connection().in_atomic_block:  # on_commit would run now, before the change
        raise RuntimeError("customer_cache.invalidate() runs inside the transaction that changes the row")
    _before_change(customer_id)
    transaction.on_commit(lambda: _after_commit(customer_id))


def _before_change(customer_id) -> None:
    if not _replace_generation(customer_id):
        raise CustomerCacheUnreachable(
            "the cache did not confirm the invalidation of a customer's cached row: is Redis reachable from "
            "this process? Other processes would keep serving the old row, so nothing was changed")


def _after_commit(customer_id) -> None:
    if not _replace_generation(customer_id):
        logger.error("customer cache: the invalidation after the commit was not confirmed for %s; cached "
                     "entries of the old generation expire within CUSTOMER_CACHE_TTL", customer_id)


def invalidate_or_refuse(customer_id) -> None:
    """``invalidate`` for a merge or an erasure: unconfirmed, the operation is refused (``busy``)."""
    from .merge import AccountsRefused

    try:
        invalidate(customer_id)
    except CustomerCacheUnreachable as exc:
        raise AccountsRefused("busy", f"Account {customer_id}: {exc}. Try again once the cache answers.") from exc


def before_customer_saved(sender, instance, raw=False, **kwargs) -> None:
    """pre_save/pre_delete of a Customer: a row that exists is about to change (a new row has no entry)."""
    if not raw and not instance._state.adding:
        _before_change(instance.pk)


def after_customer_saved(sender, instance, raw=False, created=False, **kwargs) -> None:
    """post_save/post_delete: once the change commits (at once in autocommit, where ``save()`` runs
    outside a transaction), the generation is replaced again."""
    if not raw and not created:
        transaction.on_commit(lambda: _after_commit(instance.pk))
