"""The step-up rule for consenting to an account merge (CONTRACTS §9).

The passkey check happens at Queue; its proof reaches us in the validated token
of this request (``request.auth``): ``auth_time`` (NumericDate) no older than
``MERGE_CONSENT_MAX_AGE_S`` and an ``amr`` array holding one of
``MERGE_CONSENT_AMR`` (RFC 8176: ``hwk``/``swk``, proof of possession of a key).
Anything else — no claim, a wrong type, an ``auth_time`` later than now (beyond the leeway) — fails closed.
"""

import time

from django.conf import settings

DEFAULT_MAX_AGE_S = 300
DEFAULT_AMR = ("hwk", "swk")


def is_stepped_up(token, *, now: float | None = None) -> bool:
    """True when ``token`` (a validated token, or None) proves a fresh key-based authentication."""
    if token is None:
        return False
    auth_time, amr = token.get("auth_time"), token.get("amr")
    if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
        return False
    if not isinstance(amr, list) or not all(isinstance(v, str) for v in amr):
        return False
    now = time.time() if now is None else now
    max_age = int(getattr(settings, "MERGE_CONSENT_MAX_AGE_S", DEFAULT_MAX_AGE_S))
    skew = int(settings.SIMPLE_JWT.get("LEEWAY", 0) or 0)
    if auth_time > now + skew or now - auth_time > max_age:
        return False
    accepted = set(getattr(settings, "MERGE_CONSENT_AMR", DEFAULT_AMR))
    return bool(accepted & set(amr))
