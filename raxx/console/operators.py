"""Operators and their passkeys: invite, disable, the two WebAuthn ceremonies, revoke.

The ceremonies use py_webauthn (``webauthn``) for every check of the authenticator's
answer (challenge, origin, RP id hash, user presence and verification, signature,
signature counter). This module only keeps state: which challenge is pending in which
session, which enrollment link is still open, which passkey belongs to whom.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url, parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from raxx.audit import audit_log

from .models import OperatorEnrollmentLink, OperatorPasskey

ENROLLMENT_TTL = timedelta(minutes=15)
CEREMONY_TIMEOUT_S = 300
SESSION_KEY = "console_webauthn_challenge"
RP_NAME = "Raxx operator console"

# Error codes of the ceremony endpoints (JSON: {"error": code, "detail": ...}).
CHALLENGE_EXPIRED = "challenge_expired"
ENROLLMENT_LINK_INVALID = "enrollment_link_invalid"
PASSKEY_REJECTED = "passkey_rejected"
LAST_PASSKEY = "last_passkey"


class CeremonyError(Exception):
    """A refused ceremony. ``reason`` goes to the audit log, never to the client."""

    def __init__(self, code: str, reason: str, *, user=None):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.user = user


def actor_for(user) -> str:
    return f"operator:{user.get_username()}"


def _token_hash(token: str) -> str:
    # A 256-bit random token needs no slow hash: SHA-256 cannot be reversed or guessed.
    return hashlib.sha256(token.encode()).hexdigest()


def enrollment_url(token: str) -> str:
    return f"{settings.WEBAUTHN_ORIGIN.rstrip('/')}/admin/enroll/{token}/"


# --- Invite and disable ----------------------------------------------------------


@dataclass
class Invite:
    user: object
    created: bool
    url: str


@transaction.atomic
def operator_invite(*, username: str, email: str | None = None, superuser: bool = False,
                    actor: str = "system") -> Invite:
    """Create (or re-enable) a staff user without a usable password and open a 15-minute
    enrollment link for it. Older open links of that operator stop working."""
    User = get_user_model()
    user, created = User.objects.select_for_update().get_or_create(username=username)
    user.is_staff = True
    user.is_active = True
    if superuser:
        user.is_superuser = True
    if email:
        user.email = email
    user.set_unusable_password()
    user.save()
    OperatorEnrollmentLink.objects.filter(user=user, used_at__isnull=True).delete()
    token = secrets.token_urlsafe(32)
    link = OperatorEnrollmentLink.objects.create(
        user=user, token_hash=_token_hash(token), created_by=actor, expires_at=timezone.now() + ENROLLMENT_TTL)
    audit_log("operator_invited", actor=actor, data={
        "operator": username, "created": created, "superuser": user.is_superuser,
        "expires_at": link.expires_at.isoformat()})
    return Invite(user=user, created=created, url=enrollment_url(token))


@dataclass
class Disabled:
    sessions_ended: int
    passkeys_revoked: int


def _session_ids_of(user) -> list[str]:
    """Database sessions signed in as ``user`` (session data is encoded: decode each)."""
    pk = str(user.pk)
    return [s.session_key for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
            if s.get_decoded().get("_auth_user_id") == pk]


@transaction.atomic
def operator_disable(*, username: str, actor: str = "system") -> Disabled:
    """End every session of the operator now and block sign-in until a new invite:
    inactive, a fresh unusable password (which changes the session hash of any session
    store), passkeys and open enrollment links removed."""
    user = get_user_model().objects.select_for_update().get(username=username)
    user.is_active = False
    user.set_unusable_password()
    user.save()
    sessions = _session_ids_of(user)
    Session.objects.filter(session_key__in=sessions).delete()
    passkeys, _ = OperatorPasskey.objects.filter(user=user).delete()
    OperatorEnrollmentLink.objects.filter(user=user, used_at__isnull=True).delete()
    audit_log("operator_disabled", actor=actor, data={
        "operator": username, "sessions_ended": len(sessions), "passkeys_revoked": passkeys})
    return Disabled(sessions_ended=len(sessions), passkeys_revoked=passkeys)


def open_enrollment_link(token: str) -> OperatorEnrollmentLink | None:
    """The link of ``token`` if it is unused, unexpired and its operator is active."""
    return (OperatorEnrollmentLink.objects.select_related("user")
            .filter(token_hash=_token_hash(token), used_at__isnull=True, expires_at__gt=timezone.now(),
                    user__is_active=True)
            .first())


# --- Challenges: one pending per session, single use -------------------------------


def _store_challenge(session, kind: str, challenge: bytes, **extra) -> None:
    session[SESSION_KEY] = {"kind": kind, "challenge": bytes_to_base64url(challenge), "at": time.time(), **extra}


def _take_challenge(session, kind: str) -> dict:
    """Pop the pending challenge: whatever happens next, it can never be answered twice."""
    pending = session.pop(SESSION_KEY, None)
    if not pending or pending.get("kind") != kind:
        raise CeremonyError(CHALLENGE_EXPIRED, f"no pending {kind} challenge (never asked, replayed or already used)")
    if time.time() - pending["at"] > CEREMONY_TIMEOUT_S:
        raise CeremonyError(CHALLENGE_EXPIRED, f"{kind} challenge older than {CEREMONY_TIMEOUT_S} s")
    return pending


def _descriptors(passkeys) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(p.credential_id),
        transports=[AuthenticatorTransport(t) for t in p.transports if t in AuthenticatorTransport._value2member_map_])
        for p in passkeys]


# --- Registration --------------------------------------------------------------------


def _user_handle(user) -> bytes:
    existing = OperatorPasskey.objects.filter(user=user).values_list("user_handle", flat=True).first()
    return bytes(existing) if existing else secrets.token_bytes(32)


def registration_begin(*, session, user, link: OperatorEnrollmentLink | None = None) -> str:
    """The ``PublicKeyCredentialCreationOptions`` (JSON) for ``user``; the challenge waits in the session."""
    handle = _user_handle(user)
    options = generate_registration_options(
        rp_id=settings.WEBAUTHN_RP_ID, rp_name=RP_NAME, user_id=handle, user_name=user.get_username(),
        user_display_name=user.get_full_name() or user.get_username(), timeout=CEREMONY_TIMEOUT_S * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=_descriptors(user.passkeys.all()))
    _store_challenge(session, "register", options.challenge, user_id=user.pk, link_id=link.pk if link else None,
                     user_handle=bytes_to_base64url(handle))
    return options_to_json(options)


def registration_complete(*, session, credential, name: str = "", token: str | None = None,
                          signed_in_user=None) -> OperatorPasskey:
    """Verify the authenticator's attestation and store the passkey. With ``token`` (an
    enrollment link) the link is used up here, atomically: a second use finds it gone."""
    pending = _take_challenge(session, "register")
    user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True, is_staff=True).first()
    if user is None:
        raise CeremonyError(PASSKEY_REJECTED, "operator is disabled")
    via_link = pending.get("link_id") is not None
    if not via_link and (signed_in_user is None or signed_in_user.pk != user.pk):
        raise CeremonyError(PASSKEY_REJECTED, "registration started by another session user", user=user)
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=base64url_to_bytes(pending["challenge"]),
            expected_rp_id=settings.WEBAUTHN_RP_ID, expected_origin=settings.WEBAUTHN_ORIGIN,
            require_user_verification=True)
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise CeremonyError(PASSKEY_REJECTED, str(exc)[:200], user=user) from exc

    transports = credential.get("response", {}).get("transports") if isinstance(credential, dict) else None
    with transaction.atomic():
        if via_link:
            used = OperatorEnrollmentLink.objects.filter(
                pk=pending["link_id"], token_hash=_token_hash(token or ""), used_at__isnull=True,
                expires_at__gt=timezone.now()).update(used_at=timezone.now())
            if not used:
                raise CeremonyError(ENROLLMENT_LINK_INVALID, "enrollment link expired or already used", user=user)
        count = user.passkeys.count()
        passkey = OperatorPasskey.objects.create(
            user=user, name=(name or "").strip()[:100] or f"Passkey {count + 1}",
            credential_id=bytes_to_base64url(verified.credential_id), public_key=verified.credential_public_key,
            sign_count=verified.sign_count, user_handle=base64url_to_bytes(pending["user_handle"]),
            transports=[t for t in (transports or []) if isinstance(t, str)][:10], aaguid=verified.aaguid or "")
        audit_log("operator_passkey_enrolled", actor=actor_for(user), data={
            "passkey": passkey.name, "passkey_id": passkey.pk, "via": "invite" if via_link else "console"})
    return passkey


# --- Authentication ------------------------------------------------------------------


def authentication_begin(*, session, username: str | None = None) -> str:
    """Options for a sign-in. Without a username the browser offers any discoverable passkey
    for this RP; an unknown username gets the same answer (no account probing)."""
    passkeys = OperatorPasskey.objects.filter(user__username=username) if username else OperatorPasskey.objects.none()
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID, timeout=CEREMONY_TIMEOUT_S * 1000,
        allow_credentials=_descriptors(passkeys), user_verification=UserVerificationRequirement.REQUIRED)
    _store_challenge(session, "signin", options.challenge)
    return options_to_json(options)


def passkey_for_credential(credential) -> OperatorPasskey | None:
    credential_id = credential.get("id") if isinstance(credential, dict) else None
    if not isinstance(credential_id, str) or not credential_id:
        return None
    return OperatorPasskey.objects.select_related("user").filter(credential_id=credential_id).first()


def authentication_complete(*, session, credential) -> OperatorPasskey:
    """Verify an assertion; the caller then logs the passkey's operator in."""
    pending = _take_challenge(session, "signin")
    passkey = passkey_for_credential(credential)
    if passkey is None:
        raise CeremonyError(PASSKEY_REJECTED, "unknown credential")
    user = passkey.user
    if not (user.is_active and user.is_staff):
        raise CeremonyError(PASSKEY_REJECTED, "operator is disabled", user=user)
    try:
        parsed = parse_authentication_credential_json(credential)
        if parsed.response.user_handle is not None and parsed.response.user_handle != bytes(passkey.user_handle):
            raise CeremonyError(PASSKEY_REJECTED, "user handle does not match the passkey's operator", user=user)
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=base64url_to_bytes(pending["challenge"]),
            expected_rp_id=settings.WEBAUTHN_RP_ID, expected_origin=settings.WEBAUTHN_ORIGIN,
            credential_public_key=bytes(passkey.public_key), credential_current_sign_count=passkey.sign_count,
            require_user_verification=True)
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise CeremonyError(PASSKEY_REJECTED, str(exc)[:200], user=user) from exc
    # Conditional on the counter we verified against: two concurrent uses of one assertion
    # (or of a cloned authenticator) cannot both pass.
    now = timezone.now()
    if not OperatorPasskey.objects.filter(pk=passkey.pk, sign_count=passkey.sign_count).update(
            sign_count=verified.new_sign_count, last_used_at=now):
        raise CeremonyError(PASSKEY_REJECTED, "signature counter changed during sign-in", user=user)
    passkey.sign_count, passkey.last_used_at = verified.new_sign_count, now
    audit_log("operator_signed_in", actor=actor_for(user), data={"passkey": passkey.name, "passkey_id": passkey.pk})
    return passkey


def ceremony_failed(*, ceremony: str, error: CeremonyError) -> None:
    audit_log("operator_ceremony_failed", actor=actor_for(error.user) if error.user else "anonymous",
              data={"ceremony": ceremony, "error": error.code, "reason": error.reason})


# --- Revocation ----------------------------------------------------------------------


def can_revoke_others(user) -> bool:
    return user.is_superuser or user.has_perm("console.delete_operatorpasskey")


@transaction.atomic
def passkey_revoke(*, passkey_id: int, by) -> OperatorPasskey:
    """Remove a passkey. An operator's last passkey can only be revoked by another operator
    (nobody locks themselves out by accident)."""
    passkey = OperatorPasskey.objects.select_for_update().select_related("user").get(pk=passkey_id)
    owner = passkey.user
    if owner.pk != by.pk and not can_revoke_others(by):
        raise OperatorPasskey.DoesNotExist
    if owner.pk == by.pk:
        # Lock the owner's rows so two concurrent revocations cannot remove the last two.
        if len(OperatorPasskey.objects.select_for_update().filter(user=owner)) <= 1:
            raise CeremonyError(LAST_PASSKEY, "your last passkey can only be revoked by another operator", user=by)
    passkey.delete()
    audit_log("operator_passkey_revoked", actor=actor_for(by), data={
        "operator": owner.get_username(), "passkey": passkey.name, "passkey_id": passkey_id})
    return passkey
