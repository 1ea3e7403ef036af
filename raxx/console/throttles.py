"""The operator sign-in rate limit (CONTRACTS §10): 10 ceremonies a minute per client
address and per username, counted in the shared cache. The cache being down serves the
request (django-redis ignores the error, the history reads as empty)."""

from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .operators import passkey_for_credential


class _SigninThrottle(SimpleRateThrottle):
    scope = "operator_signin"

    def get_rate(self) -> str:
        return settings.THROTTLE_OPERATOR_SIGNIN

    def get_ident(self, request) -> str:
        # DRF trusts X-Forwarded-For unless NUM_PROXIES is set: a client could pick its own address.
        if api_settings.NUM_PROXIES is not None:
            return super().get_ident(request)
        return request.META.get("REMOTE_ADDR", "")

    def key(self, kind: str, value: str, view) -> str:
        # begin and complete count separately: 10 whole ceremonies a minute.
        return f"throttle_{self.scope}_{view.ceremony_step}_{kind}_{value}"


class SigninAddressThrottle(_SigninThrottle):
    def get_cache_key(self, request, view):
        return self.key("addr", self.get_ident(request), view)


class SigninUsernameThrottle(_SigninThrottle):
    """Keyed on the username the client names, or on the owner of the passkey it presents."""

    def get_cache_key(self, request, view):
        data = request.data if isinstance(request.data, dict) else {}
        username = data.get("username")
        if not isinstance(username, str) or not username:
            passkey = passkey_for_credential(data.get("credential"))
            username = passkey.user.get_username() if passkey else ""
        return self.key("user", username.lower()[:150], view) if username else None
