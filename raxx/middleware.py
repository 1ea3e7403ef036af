import logging

from django.http import JsonResponse

from .audit import acting_as
from .errors import METHOD_NOT_ALLOWED, NOT_FOUND, SERVER_ERROR, error_body

logger = logging.getLogger(__name__)

_API_CODES = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 500: SERVER_ERROR}


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
        if request.path.startswith("/api/"):
            logger.exception("Unhandled error on %s", request.path)
            return JsonResponse(error_body(SERVER_ERROR), status=500)
        return None


class AuditActorMiddleware:
    """Audit events written while an operator works in the admin name them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_staff", False):
            with acting_as(f"operator:{user.get_username()}"):
                return self.get_response(request)
        return self.get_response(request)


