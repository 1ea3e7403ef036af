"""One error vocabulary for the API: ``{"error": code, "detail": ...}``."""

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, DataError, InterfaceError, OperationalError, connections
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)

INVALID_REQUEST = "invalid_request"
NOT_AUTHENTICATED = "not_authenticated"
INVALID_TOKEN = "invalid_token"
TIER_INSUFFICIENT = "tier_insufficient"
PERMISSION_DENIED = "permission_denied"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
NOT_ACCEPTABLE = "not_acceptable"
RATE_LIMITED = "rate_limited"
THROTTLED = RATE_LIMITED  # DRF's Throttled renders as rate_limited (CONTRACTS §10)
REQUEST_TOO_LARGE = "request_too_large"
DATABASE_UNAVAILABLE = "database_unavailable"
DATABASE_RETRY_AFTER_S = 5
SERVER_ERROR = "server_error"


class ApplicationError(exceptions.APIException):
    """A business-rule refusal with a code clients can rely on."""

    def __init__(self, code: str, detail=None, status_code: int = status.HTTP_400_BAD_REQUEST):
        self.code = code
        self.status_code = status_code
        self.error_detail = detail
        super().__init__(detail=detail or code, code=code)


_CODES = [
    (exceptions.ValidationError, INVALID_REQUEST),
    (exceptions.ParseError, INVALID_REQUEST),
    (exceptions.NotAuthenticated, NOT_AUTHENTICATED),
    (exceptions.AuthenticationFailed, INVALID_TOKEN),
    (exceptions.PermissionDenied, PERMISSION_DENIED),
    (exceptions.NotFound, NOT_FOUND),
    (exceptions.MethodNotAllowed, METHOD_NOT_ALLOWED),
    (exceptions.UnsupportedMediaType, UNSUPPORTED_MEDIA_TYPE),
    (exceptions.NotAcceptable, NOT_ACCEPTABLE),
    (exceptions.Throttled, THROTTLED),
]


def error_body(code: str, detail=None) -> dict:
    body = {"error": code}
    if detail is not None:
        body["detail"] = detail
    return body


def database_unavailable(exc: BaseException) -> bool:
    """A lost or refused database connection (not a bad query): the request may be retried."""
    return isinstance(exc, OperationalError | InterfaceError)


def drop_broken_connections() -> None:
    """Close connections that a failure left unusable, so the next request reconnects
    (Django does this at request end too, but not under every server or test client)."""
    for conn in connections.all(initialized_only=True):
        try:
            if conn.connection is not None and not conn.in_atomic_block and not conn.is_usable():
                conn.close()
        except DatabaseError:
            pass


def database_unavailable_body() -> tuple[dict, dict]:
    return error_body(DATABASE_UNAVAILABLE), {"Retry-After": str(DATABASE_RETRY_AFTER_S)}


def _count_refusal(context) -> None:
    from .metrics import RATE_LIMITED as RATE_LIMITED_TOTAL, route_name

    RATE_LIMITED_TOTAL.labels(route_name(context.get("request"))).inc()


def api_exception_handler(exc, context):
    from rest_framework.views import set_rollback  # not at import: views reads the auth classes

    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(REQUEST_TOO_LARGE), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if database_unavailable(exc):
        logger.error("Database unavailable in %s: %s", _view_name(context), type(exc).__name__)
        drop_broken_connections()
        body, headers = database_unavailable_body()
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)
    if isinstance(exc, DataError):
        # Text or a number the database refused (PostgreSQL echoes the value in the
        # message: never log it). Inputs are checked before they get here; this is the net.
        set_rollback()
        logger.error("Database refused a value in %s (%s)", _view_name(context), type(exc).__name__)
        return Response(error_body(INVALID_REQUEST, {"non_field_errors": ["A value could not be stored."]}),
                        status=status.HTTP_400_BAD_REQUEST)

    if _failed_authentication(exc):
        from .throttling import failed_authentication_wait, retry_after

        wait = failed_authentication_wait(context["request"]) if context.get("request") is not None else None
        if wait is not None:
            _count_refusal(context)
            return Response(error_body(RATE_LIMITED, "Too many requests that failed authentication."),
                            status=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(retry_after(wait))})

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    set_rollback()  # nothing half-written: an error ends the request's atomic block
    if isinstance(exc, exceptions.Throttled):  # whatever throttle class refused it
        _count_refusal(context)
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.error_detail), status=exc.status_code)
    if isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in _CODES if isinstance(exc, cls)), None) or exc.default_code
        detail = exc.detail
        if not isinstance(exc, exceptions.ValidationError | exceptions.ParseError):
            if isinstance(detail, dict):  # simplejwt's {"detail": ..., "code": ..., "messages": [...]}
                detail = detail.get("detail", "")
            detail = str(detail)
        elif isinstance(detail, list) and not isinstance(exc, exceptions.ParseError):
            detail = {"non_field_errors": detail}
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, exceptions.Throttled):
            headers["Retry-After"] = str(max(1, math.ceil(exc.wait or 1)))
        return Response(error_body(code, detail), status=exc.status_code, headers=headers)

    logger.exception("Unhandled error in %s", _view_name(context))
    return Response(error_body(SERVER_ERROR), status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def _view_name(context) -> str:
    view = context.get("view") if context else None
    return view.__class__.__name__ if view is not None else "view"


def _failed_authentication(exc) -> bool:
    """A 401: no credentials, a bad JWT, a bad walkthrough token (THROTTLE_ANONYMOUS counts these)."""
    return isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed) or (
        isinstance(exc, ApplicationError) and exc.status_code == status.HTTP_401_UNAUTHORIZED)
