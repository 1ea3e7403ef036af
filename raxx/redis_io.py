"""Several Redis commands in one write and one read, for the request path.

redis-py's ``Pipeline`` does the same round trip with per-command bookkeeping (response
callbacks, retries, error collection) that costs more than the commands do here. This sends
the commands packed together on a connection of the client's pool and reads their replies
in order; on any error the connection is dropped (its replies may be unread) and the error
raised, as the pipeline would. Unlike the pipeline it does not retry: a retried ``INCR`` would
count a request twice, and the callers already serve the request from the database when the
cache fails.

``made_keys`` and ``decoded`` are the two per-key costs of reading a fixed set of keys (every
registered flag's) each request, paid once per process instead: the store's full key names, and
the unpickled value of bytes seen before.
"""

import logging
from functools import lru_cache

logger = logging.getLogger(__name__)


def round_trip(client, commands: list[tuple]) -> list:
    """The raw replies of ``commands`` (e.g. ``("MGET", k1, k2)``), in order, from one round trip."""
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command(connection.pack_commands(commands))
        return [connection.read_response() for _ in commands]
    except BaseException:
        connection.disconnect()
        raise
    finally:
        pool.release(connection)


def made_keys(store, keys: tuple[str, ...]) -> list[str]:
    """The django-redis ``store``'s full names of ``keys`` (``make_key``; the same every request)."""
    return _made_keys(store.key_func, store.key_prefix, store.version, keys)


@lru_cache(maxsize=8)
def _made_keys(key_func, prefix: str, version: int, keys: tuple[str, ...]) -> list[str]:
    return [key_func(k, prefix, version) for k in keys]


def decoded(store, key: str, raw: bytes, *, remember: bool):
    """The value ``store`` wrote as ``raw``, or ``None`` when it cannot be read (corrupt, another
    serializer: a miss). With ``remember`` (only for a bounded set of keys), the very bytes decoded
    before for ``key`` give the same value without unpickling again: never stale."""
    seen = _decoded.get(key)
    if seen is not None and seen[0] == raw:
        return seen[1]
    try:
        value = store.client.decode(raw)
    except Exception:  # noqa: BLE001
        logger.warning("cache entry %s could not be decoded; reading it from the database", key)
        return None
    if remember:
        _decoded[key] = (raw, value)
    return value


# key -> (bytes, value) of the flag entries this process decoded last (unpickling a waffle Flag model
# costs ~20 µs; its bytes rarely change).
_decoded: dict[str, tuple[bytes, object]] = {}
