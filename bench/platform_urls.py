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
    path("bench/drf", BareDrfView.as_view()),
    path("bench/auth-flag", AuthFlagView.as_view()),
]
