"""OpenAPI description of the Queue JWT bearer scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class QueueJWTScheme(OpenApiAuthenticationExtension):
    target_class = "raxx.auth.QueueJWTAuthentication"
    name = "QueueJWT"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "Access token issued by Queue: sub = customer UUID, tier = free | pro | pro_plus."}
