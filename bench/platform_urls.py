"""Bench-only URLconf: no-op views for ``bench_platform`` (never in production URLs)."""

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


def plain_round_trip_view(request):
    """The plain view plus the one Redis round trip an authenticated request makes (the same
    commands: an MGET of eight keys, a counter's SET NX EX + INCR): the floor of this design."""
    from django.core.cache import cache

    from raxx.redis_io import round_trip

    keys = [cache.make_key(f"bench:floor:{n}") for n in range(8)]
    counter = cache.make_key("bench:floor:counter")
    round_trip(cache.client.get_client(write=True),
               [("MGET", *keys), ("SET", counter, 0, "EX", 60, "NX"), ("INCR", counter)])
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
