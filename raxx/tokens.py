"""Development tokens shaped like Queue's (CONTRACTS §1)."""

import uuid
from datetime import timedelta

from django.conf import settings


class AsymmetricKeyError(RuntimeError):
    pass


def issue_dev_token(*, sub: uuid.UUID | str, tier: str | None, ttl_seconds: int = 3600, email: str | None = None) -> str:
    """An HS256 access token for ``sub``; refuses when the issuer key is asymmetric."""
    from .auth import QueueAccessToken

    if not settings.SIMPLE_JWT["ALGORITHM"].startswith("HS"):
        raise AsymmetricKeyError(
            f"JWT_ALGORITHM is {settings.SIMPLE_JWT['ALGORITHM']}: tokens are signed by Queue's private key, "
            "which this service never holds. Set JWT_ALGORITHM=HS256 to mint development tokens.")
    token = QueueAccessToken()
    token.set_exp(lifetime=timedelta(seconds=ttl_seconds))
    token["sub"] = str(sub)
    if tier is not None:
        token["tier"] = tier
    if email:
        token["email"] = email
    return str(token)
