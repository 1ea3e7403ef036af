"""Passkey sign-in pages and the JSON ceremony endpoints under /admin/ (CONTRACTS §8).

Pages: the sign-in page (no password field; a POST is refused), the enrollment page an
invite link opens, the operator's passkeys. JSON: begin/complete of registration and of
authentication; the page's script (static/console/passkeys.js) drives them.
"""

import json

from django.contrib import admin, messages
from django.contrib.auth import login
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from raxx.errors import NOT_AUTHENTICATED, error_body

from . import operators
from .models import OperatorPasskey
from .throttles import SigninAddressThrottle, SigninUsernameThrottle

BACKEND = "raxx.console.backends.PasskeyOnlyBackend"
PASSWORDS_REFUSED = "Passwords are not accepted: sign in with a passkey."


def _safe_next(request, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return reverse("admin:index")


def _page(request, template: str, title: str, status_code: int = 200, **context) -> TemplateResponse:
    return TemplateResponse(request, template, {**admin.site.each_context(request), "title": title, **context},
                            status=status_code)


def login_page(request):
    """``/admin/login/``: "Sign in with a passkey". There is no password form, and a POST
    (a username and a password, say) never signs anyone in."""
    next_url = _safe_next(request, request.GET.get("next") or request.POST.get("next"))
    if request.method == "GET" and request.user.is_active and request.user.is_staff:
        return HttpResponseRedirect(next_url)
    if request.method not in ("GET", "HEAD"):
        response = _page(request, "console/login.html", "Sign in", status.HTTP_405_METHOD_NOT_ALLOWED,
                         next=next_url, refused=PASSWORDS_REFUSED)
        response["Allow"] = "GET, HEAD"
        return response
    return _page(request, "console/login.html", "Sign in", next=next_url)


def no_password_pages(request, *args, **kwargs):
    raise Http404("Operators have no password (CONTRACTS §8).")


def enroll_page(request, token: str):
    """The page an invite link opens: register a passkey (which also signs the operator in)."""
    link = operators.open_enrollment_link(token)
    if link is None:
        return _page(request, "console/enroll.html", "Enrollment link not valid", status.HTTP_410_GONE, link=None)
    return _page(request, "console/enroll.html", "Register a passkey", link=link, token=token,
                 operator=link.user.get_username())


def passkeys_page(request):
    """Your passkeys (add, revoke); operators allowed to, also everyone else's."""
    others = OperatorPasskey.objects.none()
    if operators.can_revoke_others(request.user):
        others = OperatorPasskey.objects.exclude(user=request.user).select_related("user").order_by(
            "user__username", "created_at")
    mine = list(OperatorPasskey.objects.filter(user=request.user))
    return _page(request, "console/passkeys.html", "Your passkeys", mine=mine, others=list(others),
                 can_revoke_own=len(mine) > 1)


@require_POST
def passkey_revoke(request, pk: int):
    try:
        passkey = operators.passkey_revoke(passkey_id=pk, by=request.user)
    except OperatorPasskey.DoesNotExist:
        raise Http404("No such passkey.") from None
    except operators.CeremonyError as exc:
        messages.error(request, exc.reason.capitalize() + ".")
    else:
        messages.success(request, f"Passkey “{passkey.name}” of {passkey.user.get_username()} revoked.")
    return redirect("console-passkeys")


# --- JSON ceremonies -----------------------------------------------------------------


class _CsrfSession(SessionAuthentication):
    """The session, with Django's CSRF check for every caller, signed in or not: the
    ceremony is started and finished by the console's own pages."""

    def authenticate(self, request):
        self.enforce_csrf(request)
        user = getattr(request._request, "user", None)
        return (user, None) if user is not None and user.is_active else None


class _CeremonyApi(APIView):
    authentication_classes = [_CsrfSession]
    permission_classes = [AllowAny]
    throttle_classes = [SigninAddressThrottle, SigninUsernameThrottle]
    schema = None  # the console's own endpoints, not the public API: not in /api/schema
    ceremony_step = ""
    ceremony = ""

    def refused(self, error: operators.CeremonyError) -> Response:
        operators.ceremony_failed(ceremony=self.ceremony, error=error)
        detail = {
            operators.CHALLENGE_EXPIRED: "No sign-in is waiting for this answer: start again.",
            operators.ENROLLMENT_LINK_INVALID: "This enrollment link has expired or was already used.",
        }.get(error.code, "The passkey could not be verified.")
        return Response(error_body(error.code, detail), status=status.HTTP_400_BAD_REQUEST)

    @staticmethod
    def options(options_json: str) -> Response:
        return Response(json.loads(options_json))

    @staticmethod
    def short_lived_if_anonymous(request) -> None:
        # A sign-in attempt by nobody in particular keeps its session row 5 minutes, not 2 weeks.
        if request.user is None:
            request.session.set_expiry(operators.CEREMONY_TIMEOUT_S)

    @staticmethod
    def sign_in(request, user) -> None:
        login(request._request, user, backend=BACKEND)
        request.session.set_expiry(None)  # the signed-in session lives the usual SESSION_COOKIE_AGE

    def staff_user(self, request):
        user = request.user
        return user if user is not None and getattr(user, "is_staff", False) else None


class RegistrationBegin(_CeremonyApi):
    ceremony, ceremony_step = "register", "register_begin"

    class InputSerializer(serializers.Serializer):
        token = serializers.CharField(required=False, max_length=200)

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = data.validated_data.get("token")
        if token:
            link = operators.open_enrollment_link(token)
            if link is None:
                return self.refused(operators.CeremonyError(
                    operators.ENROLLMENT_LINK_INVALID, "enrollment link expired, used or unknown"))
            self.short_lived_if_anonymous(request)
            return self.options(operators.registration_begin(session=request.session, user=link.user, link=link))
        user = self.staff_user(request)
        if user is None:
            return Response(error_body(NOT_AUTHENTICATED, "Sign in first, or open an enrollment link."),
                            status=status.HTTP_403_FORBIDDEN)
        return self.options(operators.registration_begin(session=request.session, user=user))


class RegistrationComplete(_CeremonyApi):
    ceremony, ceremony_step = "register", "register_complete"

    class InputSerializer(serializers.Serializer):
        credential = serializers.DictField()
        name = serializers.CharField(required=False, allow_blank=True, max_length=100)
        token = serializers.CharField(required=False, max_length=200)

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            passkey = operators.registration_complete(
                session=request.session, credential=data.validated_data["credential"],
                name=data.validated_data.get("name", ""), token=data.validated_data.get("token"),
                signed_in_user=self.staff_user(request))
        except operators.CeremonyError as exc:
            return self.refused(exc)
        if request.user is None or request.user.pk != passkey.user_id:
            self.sign_in(request, passkey.user)
        return Response({"status": "enrolled", "passkey": {"id": passkey.pk, "name": passkey.name},
                         "redirect": reverse("console-passkeys") if data.validated_data.get("token") is None
                         else reverse("admin:index")})


class AuthenticationBegin(_CeremonyApi):
    ceremony, ceremony_step = "signin", "signin_begin"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(required=False, allow_blank=True, max_length=150)

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.short_lived_if_anonymous(request)
        return self.options(operators.authentication_begin(
            session=request.session, username=data.validated_data.get("username") or None))


class AuthenticationComplete(_CeremonyApi):
    ceremony, ceremony_step = "signin", "signin_complete"

    class InputSerializer(serializers.Serializer):
        credential = serializers.DictField()
        next = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            passkey = operators.authentication_complete(
                session=request.session, credential=data.validated_data["credential"])
        except operators.CeremonyError as exc:
            return self.refused(exc)
        self.sign_in(request, passkey.user)
        return Response({"status": "signed_in", "redirect": _safe_next(request, data.validated_data.get("next"))})
