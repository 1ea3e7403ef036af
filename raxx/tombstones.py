"""``tombstoned_emails``: the email of a merged-away account, kept only as hashes.

``email_hash`` is argon2 of the address exactly as the customer row held it
(the spec's ``hash(B.email)``): ``argon2.PasswordHasher().verify(email_hash, email)``
works. ``lookup_token`` is a keyed HMAC of the normalised address, so
``is_email_tombstoned`` is one indexed query, case-insensitive, with no slow
hash on that path; ``verify_tombstoned_email`` checks a candidate against the
argon2 hash (still works after ``SECRET_KEY`` — the HMAC key — is rotated).
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
    row, _ = TombstonedEmail.objects.get_or_create(
        lookup_token=lookup_token(email),
        defaults={"email_hash": lambda: _HASHER.hash(email), "reason": reason})
    return row


def is_email_tombstoned(email: str) -> bool:
    """Is ``email`` (any case) the address of a merged-away account? One indexed query."""
    return TombstonedEmail.objects.filter(lookup_token=lookup_token(email)).exists()


def verify_tombstoned_email(row: TombstonedEmail, email: str) -> bool:
    for candidate in dict.fromkeys((email, email.strip(), normalize_email(email))):
        try:
            if _HASHER.verify(row.email_hash, candidate):
                return True
        except (VerificationError, InvalidHashError):
            continue
    return False


def forget_tombstoned_email(email: str) -> int:
    """Erasure: drop the tombstone of this address too (its hash is still data about the person)."""
    deleted, _ = TombstonedEmail.objects.filter(lookup_token=lookup_token(email)).delete()
    return deleted
