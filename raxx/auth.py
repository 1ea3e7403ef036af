"""Customer authentication: JWTs issued by Queue, verified here.

We never issue customer credentials (``issue_token`` is a development aid)
and never store them. The customer's tier is read from the token of the
current request only; a token without a valid ``tier`` has no tier, and
every tier-gated route fails closed.
"""

import hashlib
import time
import uuid
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from . import customer_cache
from .audit import _actor
from .errors import TIER_INSUFFICIENT, ApplicationError
from .models import Customer
from .request_cache import prefetch

TIERS = ("free", "pro", "pro_plus")
LAST_SEEN_RESOLUTION = timedelta(minutes=10)
# RFC 9110 §11.1: the scheme is case-insensitive. JWT and walkthrough routes share this rule.
BEARER = b"bearer"


def bearer_credentials(header: bytes) -> list[bytes] | None:
    """The space-separated parts after the scheme when ``header`` uses Bearer (any case), else None."""
    parts = header.split()
    if not parts or parts[0].lower() != BEARER:
        return None
    return parts[1:]


def canonical_sub(value) -> uuid.UUID:
    """The customer id of a ``sub`` claim, which must be the canonical spelling of a UUID:
    36 characters, lowercase hex, hyphenated (``str(uuid.UUID(...))``). Any other spelling
    (uppercase, braces, ``urn:uuid:``, no hyphens) raises ValueError: one customer, one spelling."""
    if not isinstance(value, str):
        raise ValueError("sub must be a string")
    customer_id = uuid.UUID(value)
    if str(customer_id) != value:
        raise ValueError("sub is not in canonical UUID form")
    return customer_id


class VerifiedTokenBackend(TokenBackend):
    """simplejwt's backend, which remembers the tokens whose signature it has verified.

    Checking a signature (PyJWT: base64, JSON, HMAC or RSA) is the largest cost of a
    request after the cache round trip, and a customer sends the same token many times.
    A token is remembered only after a full ``decode`` accepted it, by a digest of its exact bytes, on
    this backend (one backend per key, issuer, audience and leeway: a rotated key starts
    empty). What a repeat still checks, with PyJWT's rule: ``exp``, which time can break
    (``Token.verify`` checks it again too). ``nbf`` and ``iat`` only ever stay valid once
    they are, and the signature, ``aud`` and ``iss`` are fixed by the bytes and the backend.
    A token without an integer ``exp`` is never remembered (simplejwt refuses it anyway).
    """

    REMEMBERED = 4096  # tokens per process; the oldest is forgotten first

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._verified: dict[bytes, dict] = {}  # sha256 of the token -> its payload

    def remembers(self, token) -> bool:
        return self._key(token) in self._verified

    @staticmethod
    def _key(token) -> bytes:  # a digest, not the token: no credential is kept in memory beyond the request
        return hashlib.sha256(token if isinstance(token, bytes) else token.encode()).digest()

    def decode(self, token, verify: bool = True) -> dict:
        key = self._key(token)
        payload = self._verified.get(key) if verify else None
        if payload is not None and payload["exp"] > time.time() - self.get_leeway().total_seconds():
            return dict(payload)
        payload = super().decode(token, verify=verify)
        if verify and type(payload.get("exp")) is int:
            try:
                while len(self._verified) >= self.REMEMBERED:
                    self._verified.pop(next(iter(self._verified)))
            except (KeyError, RuntimeError, StopIteration):  # another thread forgot it first
                pass
            self._verified[key] = dict(payload)
        return payload


@lru_cache(maxsize=8)
def _backend(algorithm, signing_key, verifying_key, audience, issuer, leeway) -> TokenBackend:
    return VerifiedTokenBackend(algorithm, signing_key, verifying_key, audience, issuer, None, leeway)


def token_backend() -> TokenBackend:
    """The simplejwt backend for the *current* ``settings.SIMPLE_JWT``.

    simplejwt builds its own backend once at import time; reading the settings
    on each call (memoised) keeps key rotation in tests and ``override_settings``
    honest. Decoding accepts only the configured algorithm: ``alg: none`` and
    any other algorithm are refused by PyJWT.
    """
    conf = settings.SIMPLE_JWT
    return _backend(conf["ALGORITHM"], conf.get("SIGNING_KEY") or "", conf.get("VERIFYING_KEY") or None,
                    conf.get("AUDIENCE"), conf.get("ISSUER"), conf.get("LEEWAY", 0))


class QueueAccessToken(AccessToken):
    """An access token checked against the configured key, issuer and audience."""

    def get_token_backend(self) -> TokenBackend:
        return token_backend()


class QueueJWTAuthentication(JWTAuthentication):
    """simplejwt, with the Queue customer as ``request.user``."""

    def get_validated_token(self, raw_token: bytes) -> QueueAccessToken:
        try:
            return QueueAccessToken(raw_token)
        except TokenError as exc:
            raise InvalidToken(str(exc))
        except (OverflowError, ValueError):  # a signed exp/iat past year 9999 (or 1e20) overflows datetime
            raise InvalidToken("Token has an out-of-range time claim.")

    def get_raw_token(self, header: bytes) -> bytes | None:
        credentials = bearer_credentials(header)
        if credentials is None:
            return None  # another scheme: not ours to judge (401 not_authenticated)
        if len(credentials) != 1:
            raise AuthenticationFailed("Authorization header must contain two space-delimited values",
                                       code="bad_authorization_header")
        return credentials[0]

    def authenticate(self, request):
        header = self.get_header(request)
        raw_token = self.get_raw_token(header) if header is not None else None
        if raw_token is None:
            return None
        validated_token = self.get_validated_token(raw_token)
        return self.get_user(validated_token, request=request), validated_token

    def get_user(self, validated_token, request=None) -> Customer:
        try:
            customer_id = canonical_sub(validated_token["sub"])
        except (KeyError, ValueError, TypeError):
            raise InvalidToken("Token has no valid 'sub' claim (a UUID in canonical form).")
        customer = customer_for_token(customer_id, email=token_email(validated_token.get("email")), request=request)
        if customer.is_tombstoned:
            raise AuthenticationFailed("This account is closed.", code="account_closed")
        _actor.set(f"customer:{customer.id}")
        return customer


def token_email(value) -> str | None:
    """The optional ``email`` claim when it is a plausible address; anything else is ignored
    (a malformed claim must never fail the request or reach the database)."""
    if not isinstance(value, str) or len(value) > Customer._meta.get_field("email").max_length:
        return None
    try:
        validate_email(value)
    except ValidationError:
        return None
    return value


def customer_for_token(customer_id: uuid.UUID, *, email: str | None = None, request=None) -> Customer:
    """The local row for a Queue customer, provisioned on first sight.

    On the hot path no query at all: the row comes from the cache in the request's one read
    (raxx/request_cache.py), served only while its generation is current, so a tombstone
    applies on the next request (raxx/customer_cache.py). Otherwise one query, and the row
    is cached. Last-seen is written at most every ten minutes.
    """
    now = timezone.now()
    if request is not None:
        customer, generation = prefetch(request, customer_id)
    else:
        customer, generation = None, customer_cache.start_generation(customer_id)
    if customer is None:
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            try:
                with transaction.atomic():
                    customer = Customer.objects.create(id=customer_id, email=email or None, created_at=now,
                                                       last_seen_at=now)
            except IntegrityError:  # a concurrent first request provisioned it
                customer = Customer.objects.get(pk=customer_id)
        customer_cache.remember(customer, generation)
    if not customer.is_tombstoned and now - customer.last_seen_at > LAST_SEEN_RESOLUTION:
        Customer.objects.filter(pk=customer.pk).update(last_seen_at=now)
        customer.last_seen_at = now
        customer_cache.remember(customer, generation)
    return customer


def token_tier(request) -> str | None:
    """The tier claim of this request's token, or None (never a stored value)."""
    token = getattr(request, "auth", None)
    tier = token.get("tier") if token is not None else None
    return tier if tier in TIERS else None


class IsCustomer(BasePermission):
    """An authenticated, non-tombstoned Queue customer."""

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.user, Customer):
            raise NotAuthenticated()
        return True


def tier_in(*tiers: str) -> type[BasePermission]:
    """A permission admitting only tokens whose tier is one of ``tiers``.

    Fails closed: no tier claim, or an unknown value, is refused.
    """
    unknown = set(tiers) - set(TIERS)
    if unknown:
        raise ValueError(f"unknown tiers {unknown}")

    class TierIn(IsCustomer):
        def has_permission(self, request, view) -> bool:
            super().has_permission(request, view)
            if token_tier(request) not in tiers:
                raise ApplicationError(TIER_INSUFFICIENT, status_code=403)
            return True

    TierIn.__name__ = f"TierIn_{'_'.join(tiers)}"
    return TierIn
