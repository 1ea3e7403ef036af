import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import DataError
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError

from .audit import acting_as
from .errors import (
    DATABASE_UNAVAILABLE,
    INVALID_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PERMISSION_DENIED,
    RATE_LIMITED,
    REQUEST_TOO_LARGE,
    SERVER_ERROR,
    UNSUPPORTED_MEDIA_TYPE,
    database_unavailable,
    database_unavailable_body,
    drop_broken_connections,
    error_body,
)

logger = logging.getLogger(__name__)

_API_CODES = {
    400: INVALID_REQUEST,
    403: PERMISSION_DENIED,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    413: REQUEST_TOO_LARGE,
    415: UNSUPPORTED_MEDIA_TYPE,
    429: RATE_LIMITED,
    500: SERVER_ERROR,
    503: DATABASE_UNAVAILABLE,  # the only 503 under /api (an HTML-rendered view, e.g. the docs page)
}


def is_json_path(path: str) -> bool:
    """/api, everything under it, and /healthz answer JSON, errors included (CONTRACTS §10)."""
    return path == "/api" or path.startswith("/api/") or path == "/healthz"


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class JsonApiErrorsMiddleware:
    """Under /api and /healthz every error is JSON: Django's own 400/404/405/500 pages
    (including the DEBUG ones with stack traces, and the 400 of a bad Host header) never
    reach a client. First in MIDDLEWARE, so it also sees what SecurityMiddleware answers.

    Also: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused (413) on every route
    before anything reads it (DRF's parsers read the stream without Django's limit),
    and every /api response carries ``Cache-Control: no-store``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _declared_length(request) > limit:
            response = JsonResponse(error_body(REQUEST_TOO_LARGE), status=413)
            response["Connection"] = "close"  # the unread body must not be taken for the next request
        else:
            response = self.get_response(request)
        path = request.path_info
        if not is_json_path(path):
            return response
        if response.status_code in _API_CODES and not response.get("Content-Type", "").startswith("application/json"):
            retry_after = response.get("Retry-After")
            response = JsonResponse(error_body(_API_CODES[response.status_code]), status=response.status_code)
            if retry_after:
                response["Retry-After"] = retry_after
        elif 300 <= response.status_code < 400 and not response.get("Content-Type", "").startswith("application/json"):
            location = response.get("Location", "")  # SECURE_SSL_REDIRECT's 301: JSON too, Location kept
            response = JsonResponse(error_body("https_required" if location.startswith("https://") else "moved",
                                               location), status=response.status_code, headers={"Location": location})
        response["Cache-Control"] = "no-store"
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(error_body(REQUEST_TOO_LARGE), status=413)
        if database_unavailable(exception):
            logger.error("Database unavailable on %s: %s", request.path, type(exception).__name__)
            drop_broken_connections()
            body, headers = database_unavailable_body()
            return JsonResponse(body, status=503, headers=headers)
        if isinstance(exception, DataError) and is_json_path(request.path):
            logger.error("Database refused a value on %s (%s)", request.path, type(exception).__name__)
            return JsonResponse(error_body(INVALID_REQUEST), status=400)
        if isinstance(exception, Http404 | PermissionDenied | SuspiciousOperation | BadRequest | MultiPartParserError):
            return None  # Django answers 404/403/400; __call__ turns that page into JSON
        if is_json_path(request.path):
            logger.error("Unhandled error on %s: %s", request.path, type(exception).__name__, exc_info=exception)
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


