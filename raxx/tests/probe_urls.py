"""A test-only URLconf: the real routes plus probe views under /api/probe/."""

from django.core.exceptions import SuspiciousOperation
from django.http import Http404, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from flags.registry import flag_is_on
from raxx.api import flag_required
from raxx.auth import tier_in
from raxx.urls import urlpatterns as real_urlpatterns


class ProGated(APIView):
    permission_classes = [tier_in("pro", "pro_plus")]

    def get(self, request):
        return Response({"ok": True})


class EchoSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)


class Echo(APIView):
    def post(self, request):
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"amount": serializer.validated_data["amount"]})


class Missing(APIView):
    def get(self, request):
        raise Http404("no such thing")


class Boom(APIView):
    def get(self, request):
        raise RuntimeError("secret internals in a traceback")


class FlagChecked(APIView):
    permission_classes = [tier_in("pro", "pro_plus"), flag_required("FLAG_WCB_ENABLED")]

    def get(self, request):
        return Response({"journal": flag_is_on(request, "FLAG_SENTIMENT_JOURNAL"),
                         "persona": flag_is_on(request, "FLAG_WALKTHROUGH_PERSONA_ROUTING")})


class AuditProbe(APIView):
    def post(self, request):
        from raxx.audit import audit_log

        return Response({"actor": audit_log("probe_event", customer=request.user).actor})


def django_boom(request):
    raise RuntimeError("secret internals in a traceback")


def django_bad(request):
    raise SuspiciousOperation("bad")


@require_GET
def django_get_only(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("api/probe/pro", ProGated.as_view()),
    path("api/probe/echo", Echo.as_view()),
    path("api/probe/missing", Missing.as_view()),
    path("api/probe/boom", Boom.as_view()),
    path("api/probe/flagged", FlagChecked.as_view()),
    path("api/probe/audit", AuditProbe.as_view()),
    path("api/probe/django-boom", django_boom),
    path("api/probe/django-bad", django_bad),
    path("api/probe/django-get-only", django_get_only),
    *real_urlpatterns,
]
