"""Development tokens shaped like Queue's (CONTRACTS §1)."""

import time
import uuid
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings


class AsymmetricKeyError(RuntimeError):
    pass


def issue_dev_token(*, sub: uuid.UUID | str, tier: str | None, ttl_seconds: int = 3600, email: str | None = None,
                    amr: Sequence[str] | None = None, auth_age_seconds: int | None = None) -> str:
    """An HS256 access token for ``sub``; refuses when the issuer key is asymmetric.

    ``amr`` (RFC 8176 method values) and ``auth_age_seconds`` (``auth_time`` = now minus that)
    shape a step-up token like the one Queue issues after a passkey check (CONTRACTS §9).
    """
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
    if amr is not None:
        token["amr"] = list(amr)
    if auth_age_seconds is not None:
        token["auth_time"] = int(time.time()) - int(auth_age_seconds)
    return str(token)
