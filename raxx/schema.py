"""OpenAPI description of the Queue JWT bearer scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView


class QueueJWTScheme(OpenApiAuthenticationExtension):
    target_class = "raxx.auth.QueueJWTAuthentication"
    name = "QueueJWT"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "Access token issued by Queue: sub = customer UUID, tier = free | pro | pro_plus."}


# Path parameters named as CONTRACTS §3 names them (the views' URL kwargs are
# ``order_id``/``label_id``; the published paths are ``{id}``).
CONTRACT_PATH_PARAMETERS = {
    "/api/paper-orders/{order_id}": "order_id",
    "/api/paper-orders/{order_id}/close": "order_id",
    "/api/sentiment-labels/{label_id}": "label_id",
}


def contract_path_names(result, generator, request, public):
    """drf-spectacular post-processing hook: publish the contract's ``{id}`` names."""
    paths = result.get("paths", {})
    for path, kwarg in CONTRACT_PATH_PARAMETERS.items():
        if path not in paths:
            continue
        operations = paths.pop(path)
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "path" and parameter.get("name") == kwarg:
                    parameter["name"] = "id"
        paths[path.replace("{" + kwarg + "}", "{id}")] = operations
    result["paths"] = dict(sorted(paths.items()))
    return result


class SchemaView(SpectacularAPIView):
    """``GET /api/schema``: OpenAPI 3 as JSON by default (``?format=yaml`` or
    ``Accept: application/vnd.oai.openapi`` for YAML)."""

    renderer_classes = [OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer, OpenApiYamlRenderer2]
