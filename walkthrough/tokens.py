"""Walkthrough invite tokens.

A token is ``wt1.<nonce>.<signature>``: 24 random bytes (base64url) signed with
HMAC-SHA256 under ``settings.BETA_TOKEN_SECRET``. The database keeps only the
SHA-256 hex digest of the whole token (``token_hash``); the raw token exists
once, in the output of the invite command or admin page, and is never stored,
echoed in a response or logged.

Expiry: a token is accepted until the end (23:59:59 UTC) of its program's
``ends_on`` date. The tester's rows are purged 30 days after that; an operator
extends a cohort by moving the program's end date, without re-inviting anyone.
"""

import base64
import hashlib
import hmac
import secrets

from django.conf import settings

PREFIX = "wt1"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _signature(nonce: str) -> str:
    key = settings.BETA_TOKEN_SECRET.encode("utf-8")
    return _b64(hmac.new(key, f"{PREFIX}.{nonce}".encode("ascii"), hashlib.sha256).digest())


def new_token() -> str:
    nonce = _b64(secrets.token_bytes(24))
    return f"{PREFIX}.{nonce}.{_signature(nonce)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def signature_ok(token: str) -> bool:
    """Is ``token`` well formed and signed with our secret? Constant-time compare."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or len(token) > 200:
        return False
    try:
        parts[1].encode("ascii")
        expected = _signature(parts[1])
    except (UnicodeEncodeError, ValueError):
        return False
    return hmac.compare_digest(expected.encode("ascii"), parts[2].encode("ascii", "replace"))
