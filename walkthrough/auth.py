"""Walkthrough authentication: ``Authorization: Bearer <walkthrough token>``.

Walkthrough views replace the project's customer JWT defaults with these
classes. Any failure (no header, another scheme, a bad signature, an unknown
or expired token) answers 401 ``{"error": "invalid_token"}``.
"""

from datetime import datetime, time, timezone as dt_timezone

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from raxx.auth import bearer_credentials
from raxx.errors import INVALID_TOKEN, ApplicationError

from .models import WalkthroughProgress
from .selectors import progress_for_token
from .tokens import signature_ok, token_hash


class Tester:
    """``request.user`` on walkthrough routes: the progress row behind a token.

    Shaped enough like a Django user for waffle (flags with ``everyone`` or
    ``authenticated`` set work; user/group targeting does not apply to testers).
    """

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, progress: WalkthroughProgress):
        self.progress = progress

    def __bool__(self) -> bool:
        return True


def token_expires_at(progress: WalkthroughProgress) -> datetime:
    return datetime.combine(progress.program.ends_on, time.max, tzinfo=dt_timezone.utc)


def _refuse():
    raise ApplicationError(INVALID_TOKEN, status_code=401)


class WalkthroughTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        credentials = bearer_credentials(get_authorization_header(request))  # scheme in any case, as JWT routes
        if credentials is None or len(credentials) != 1:
            _refuse()
        try:
            raw = credentials[0].decode("ascii")
        except UnicodeDecodeError:
            _refuse()
        if not signature_ok(raw):
            _refuse()
        progress = progress_for_token(token_hash=token_hash(raw))
        if progress is None or timezone.now() > token_expires_at(progress):
            _refuse()
        return Tester(progress), None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="walkthrough"'


class IsTester(BasePermission):
    def has_permission(self, request, view) -> bool:
        if not isinstance(request.user, Tester):
            _refuse()
        return True
