"""``tombstoned_emails``: the email of a merged-away account, kept only as hashes.

``is_email_tombstoned`` is one indexed query on the HMAC lookup token; the
argon2 hash then confirms the match (it is what the spec asks to keep, and it
still verifies a candidate address after ``SECRET_KEY`` — the HMAC key — is
rotated, via ``verify_tombstoned_email``).
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from django.utils.crypto import salted_hmac

from .models import TombstonedEmail, normalize_email

_HASHER = PasswordHasher()
_HMAC_SALT = "raxx.tombstoned_emails.lookup"


def lookup_token(email: str) -> str:
    return salted_hmac(_HMAC_SALT, normalize_email(email), algorithm="sha256").hexdigest()


def tombstone_email(email: str, *, reason: str) -> TombstonedEmail:
    """Record ``email`` as tombstoned (idempotent: one row per address)."""
    normalized = normalize_email(email)
    row, _ = TombstonedEmail.objects.get_or_create(
        lookup_token=lookup_token(normalized),
        defaults={"email_hash": lambda: _HASHER.hash(normalized), "reason": reason})
    return row


def is_email_tombstoned(email: str) -> bool:
    """Is ``email`` the address of a merged-away account? One indexed query (plus an argon2 check)."""
    row = TombstonedEmail.objects.filter(lookup_token=lookup_token(email)).only("email_hash").first()
    return row is not None and verify_tombstoned_email(row, email)


def verify_tombstoned_email(row: TombstonedEmail, email: str) -> bool:
    try:
        return _HASHER.verify(row.email_hash, normalize_email(email))
    except (VerificationError, InvalidHashError):
        return False


def forget_tombstoned_email(email: str) -> int:
    """Erasure: drop the tombstone of this address too (its hash is still data about the person)."""
    deleted, _ = TombstonedEmail.objects.filter(lookup_token=lookup_token(email)).delete()
    return deleted
