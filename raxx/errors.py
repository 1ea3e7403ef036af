"""One error vocabulary for the API: ``{"error": code, "detail": ...}``."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
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
THROTTLED = "throttled"
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


def api_exception_handler(exc, context):
    from rest_framework.views import set_rollback  # not at import: views reads the auth classes

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    set_rollback()  # nothing half-written: an error ends the request's atomic block
    if isinstance(exc, exceptions.Throttled):  # whatever throttle class refused it
        from .metrics import RATE_LIMITED, route_name

        RATE_LIMITED.labels(route_name(context.get("request"))).inc()
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
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        return Response(error_body(code, detail), status=exc.status_code, headers=headers)

    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__ if context.get("view") else "view")
    return Response(error_body(SERVER_ERROR), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
