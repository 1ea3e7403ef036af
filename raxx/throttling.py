"""Rate limits (CONTRACTS §10): fixed-window counters in the shared cache.

DRF's ``SimpleRateThrottle`` keeps a list of timestamps per client (a GET and a
SET of up to 1,200 pickled floats per request at our customer rate); a counter
per window costs one cache round trip for every limit a request meets together
(``SET key 0 EX period NX`` + ``INCR key`` for each, in one Redis pipeline).
A burst of up to twice a limit can straddle a window boundary; that is the usual
price of fixed windows and fine for abuse control.

With the cache down, requests are served (the limit is an accelerator's job,
never a reason to refuse a customer). Operators' sign-in ceremonies use
``hit()`` too (raxx.console).
"""

import logging
import math
import time
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache, caches
from django.core.exceptions import ImproperlyConfigured
from rest_framework.throttling import BaseThrottle

from .logs import AtMostEvery
from .models import Customer
from .redis_io import round_trip

logger = logging.getLogger(__name__)
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_cache_down_warning = AtMostEvery(60)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
COUNTED = "_raxx_rate_counted"  # (customer id, wait or None): set by raxx/request_cache.py's one round trip


@lru_cache(maxsize=32)
def parse_rate(rate: str) -> tuple[int, int]:
    """``"1200/min"`` → (1200, 60). Units: s, sec, m, min, h, hour, d, day."""
    try:
        number, unit = rate.split("/")
        count, period = int(number), _PERIODS[unit.strip()[0]]
    except (ValueError, KeyError, IndexError):
        raise ImproperlyConfigured(f"A rate limit looks like '120/min' (s, min, hour, day); got {rate!r}.")
    if count < 1:
        raise ImproperlyConfigured(f"A rate limit allows at least one request; got {rate!r}.")
    return count, period


def warn_cache_down(exc: Exception) -> None:
    if _cache_down_warning():
        logger.warning("Rate limits are not enforced: the cache is unreachable (%s).", type(exc).__name__)


def _redis_counts(keys: list[tuple[str, int]]) -> list[int]:
    from django_redis import get_redis_connection

    return round_trip(get_redis_connection("default"), count_commands(keys))[1::2]


def _cache_counts(keys: list[tuple[str, int]]) -> list[int]:
    counts = []
    for key, period in keys:
        cache.add(key, 0, period)
        try:
            counts.append(cache.incr(key))
        except ValueError:  # expired between add and incr: this request starts the window
            cache.add(key, 1, period)
            counts.append(1)
    return counts


def hit(*limits: tuple[str, str]) -> float | None:
    """Count one request against each ``(name, rate)`` limit, e.g. ``("customer:<id>", "1200/min")``.

    Returns the seconds to wait when any limit is exceeded, else None (also when the
    cache is unreachable: served, with a warning at most once a minute).
    """
    keys, windows = counters(limits)
    try:
        counts = _redis_counts(keys) if uses_redis() else _cache_counts(keys)
    except Exception as exc:  # noqa: BLE001 - any cache failure: serve the request
        warn_cache_down(exc)
        return None
    return longest_wait(windows, counts)


def uses_redis() -> bool:
    return type(caches["default"]).__module__.startswith("django_redis")  # `cache` is a proxy


def counters(limits) -> tuple[list[tuple[str, int]], list[tuple[int, float]]]:
    """For each ``(name, rate)``: the counter's (key, period) in this window, and (allowed, seconds left)."""
    now = time.time()
    keys, windows = [], []
    for name, rate in limits:
        count, period = parse_rate(rate)
        window = int(now // period)
        keys.append((f"rl:{name}:{window}", period))
        windows.append((count, (window + 1) * period - now))
    return keys, windows


def longest_wait(windows, counts) -> float | None:
    waits = [wait for (allowed, wait), seen in zip(windows, counts, strict=True) if seen is not None and seen > allowed]
    return max(waits) if waits else None


def count_commands(keys: list[tuple[str, int]]) -> list[tuple]:
    """The counters' ``SET NX EX`` + ``INCR`` as Redis commands (raxx/redis_io.py; their replies: every second one)."""
    commands = []
    for name, period in keys:
        key = cache.make_key(name)  # the cache's prefix and version, as for every other key
        commands += [("SET", key, 0, "EX", period, "NX"), ("INCR", key)]
    return commands


def request_limits(request, customer_id) -> list[tuple[str, str]]:
    limits = customer_limits(customer_id)
    return limits if request.method in WRITE_METHODS else limits[:1]


def client_address(request) -> str:
    """The caller's address: REMOTE_ADDR, or the last X-Forwarded-For hop when
    ``DJANGO_BEHIND_TLS_PROXY`` says our proxy appends it (REST_FRAMEWORK NUM_PROXIES)."""
    return BaseThrottle().get_ident(request) or "unknown"


def retry_after(wait: float) -> int:
    return max(1, math.ceil(wait))


def failed_authentication_wait(request) -> float | None:
    """Count a request that failed authentication against its address; the wait when over."""
    return hit((f"anon:{client_address(request)}", settings.THROTTLE_ANONYMOUS))


def customer_limits(customer_id) -> list[tuple[str, str]]:
    return [(f"customer:{customer_id}", settings.THROTTLE_CUSTOMER),
            (f"customer-writes:{customer_id}", settings.THROTTLE_CUSTOMER_WRITES)]


def customer_counter_keys(customer) -> list[str]:
    """The customer's rate-limit counters that can still be live (this window and the last)."""
    now = time.time()
    keys = []
    for name, rate in customer_limits(customer.pk):
        window = int(now // parse_rate(rate)[1])
        keys += [f"rl:{name}:{window}", f"rl:{name}:{window - 1}"]
    return keys


class CustomerRateThrottle(BaseThrottle):
    """``THROTTLE_CUSTOMER`` per customer on every customer route, and
    ``THROTTLE_CUSTOMER_WRITES`` on its writes: one cache round trip for both."""

    def allow_request(self, request, view) -> bool:
        customer = request.user
        if not isinstance(customer, Customer):
            return True  # walkthrough testers and anonymous docs/schema requests
        counted = getattr(request, "_request", request).__dict__.get(COUNTED)
        if counted is not None and counted[0] == customer.pk:  # counted in the request's one cache read
            self._wait = counted[1]
        else:
            self._wait = hit(*request_limits(request, customer.pk))
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait
