"""OpenAPI: the walkthrough token as its own bearer scheme (imported in AppConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class WalkthroughTokenScheme(OpenApiAuthenticationExtension):
    target_class = "walkthrough.auth.WalkthroughTokenAuthentication"
    name = "walkthroughToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A walkthrough invite token (manage.py walkthrough_invite), not a customer JWT."}
