"""Any operator page (admin, console) whose flag change the flag cache refused
(flags/cache.py) answers with an error message instead of a 500: nothing was written."""

from django.contrib import messages
from django.http import HttpResponseRedirect

from .cache import FlagCacheUnreachable


class FlagChangeRefusedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, FlagCacheUnreachable) or request.path.startswith("/api/"):
            return None
        messages.error(request, f"Not saved: {exception}.")
        return HttpResponseRedirect(request.get_full_path())
