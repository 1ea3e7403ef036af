"""``GET /api/docs``: Swagger UI with its init script served as a file (the CSP allows no inline script)."""

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView


class DocsView(SpectacularSwaggerSplitView):
    template_name = "raxx/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if request.GET.get("script") is None:  # the page: name the schema it loads (and let the browser preload it)
            response.data["schema_url"] = self._get_schema_url(request)
        return response
