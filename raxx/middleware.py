import logging

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError

from .audit import acting_as
from .errors import (
    INVALID_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PERMISSION_DENIED,
    SERVER_ERROR,
    UNSUPPORTED_MEDIA_TYPE,
    error_body,
)

logger = logging.getLogger(__name__)

_API_CODES = {
    400: INVALID_REQUEST,
    403: PERMISSION_DENIED,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    413: "request_too_large",
    415: UNSUPPORTED_MEDIA_TYPE,
    500: SERVER_ERROR,
}


class JsonApiErrorsMiddleware:
    """Under /api/ every error is JSON: Django's own 404/405/500 pages
    (including the DEBUG ones with stack traces) never reach a client."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.status_code not in _API_CODES:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        return JsonResponse(error_body(_API_CODES[response.status_code]), status=response.status_code)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404 | PermissionDenied | SuspiciousOperation | BadRequest | MultiPartParserError):
            return None  # Django answers 404/403/400; __call__ turns that page into JSON
        if request.path.startswith("/api/"):
            logger.exception("Unhandled error on %s", request.path)
            return JsonResponse(error_body(SERVER_ERROR), status=500)
        return None


class AuditActorMiddleware:
    """Audit events written while an operator works in the admin name them.

    Every request gets its own actor context, so an actor set during one
    request (the customer named by the JWT authentication) never leaks into
    the next request served by the same thread.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        actor = "anonymous"
        if request.path.startswith("/admin/"):  # the session is read only where operators work
            user = getattr(request, "user", None)
            if user is not None and getattr(user, "is_staff", False):
                actor = f"operator:{user.get_username()}"
        with acting_as(actor):
            return self.get_response(request)


