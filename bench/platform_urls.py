"""Bench-only URLconf: no-op views for ``bench_platform`` (never in production URLs)."""

from functools import lru_cache

from django.http import JsonResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from flags.registry import flag_is_on
from raxx.api import flag_required
from raxx.auth import tier_in


def plain_view(request):
    return JsonResponse({"ok": True})


# What one request's round trip carries: the MGET of every registered flag's keys and their generation
# (16), the customer's generation and row (2); a customer request also counts its rate limit.
CUSTOMER_KEYS, TESTER_KEYS = 18, 16


def floor_round_trip(keys: int = CUSTOMER_KEYS, *, counted: bool = True) -> None:
    """The one Redis round trip of a request of this design, as raxx/request_cache.py sends it: an MGET
    of ``keys`` keys (their names made once, as the flag keys' are) and, ``counted``, the rate-limit
    counter's SET NX EX + INCR. A memory cache (no REDIS_URL) has no round trip to make."""
    from django.core.cache import cache

    from raxx.redis_io import round_trip

    if getattr(cache, "client", None) is None:
        return
    names = _floor_keys(cache.key_prefix, keys)
    counter = [("SET", names[-1], 0, "EX", 60, "NX"), ("INCR", names[-1])] if counted else []
    round_trip(cache.client.get_client(write=True), [("MGET", *names[:-1]), *counter])


@lru_cache(maxsize=8)
def _floor_keys(prefix: str, keys: int) -> list[str]:
    from django.core.cache import cache

    return [cache.make_key(f"bench:floor:{n}") for n in range(keys)] + [cache.make_key("bench:floor:counter")]


def plain_round_trip_view(request):
    """The plain view plus the one Redis round trip an authenticated request makes: the floor of this design."""
    floor_round_trip()
    return JsonResponse({"ok": True})


class BareDrfView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


class AuthFlagView(APIView):
    """Queue JWT + tier gate + flag gate + one more flag check in the body."""

    permission_classes = [tier_in("pro", "pro_plus"), flag_required("FLAG_WCB_ENABLED")]

    def get(self, request):
        return Response({"ok": True, "journal": flag_is_on(request, "FLAG_SENTIMENT_JOURNAL")})


urlpatterns = [
    path("bench/plain", plain_view),
    path("bench/plain-round-trip", plain_round_trip_view),
    path("bench/drf", BareDrfView.as_view()),
    path("bench/auth-flag", AuthFlagView.as_view()),
]
