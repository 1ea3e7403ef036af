"""The auth matrix of CONTRACTS §1: what a caller with each kind of token sees."""

import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from jwt.utils import base64url_encode
from rest_framework.test import APIClient
from rest_framework_simplejwt.exceptions import TokenBackendExpiredToken

from conftest import token_for
from raxx.auth import tier_in
from raxx.models import Customer

from .helpers import PROBE_URLS, bearer, claims, sign, unsigned

pytestmark = pytest.mark.django_db


def me(token: str):
    return bearer(APIClient(), token).get("/api/me")


def assert_401(response, code="invalid_token"):
    assert response.status_code == 401, response.content
    assert response.json()["error"] == code
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_valid_token_is_the_customer(customer):
    response = me(token_for(customer, "pro"))
    assert response.status_code == 200
    assert response.json() == {"id": str(customer.id), "email": customer.email, "tier": "pro"}


def test_no_header_is_401_not_authenticated():
    assert_401(APIClient().get("/api/me"), code="not_authenticated")


def test_garbage_token_is_401():
    assert_401(me("not-a-jwt"))


def test_expired_token_is_401(customer):
    assert_401(me(sign(claims(sub=str(customer.id), exp=int(timezone.now().timestamp()) - 5))))


def test_bad_signature_is_401(customer):
    assert_401(me(sign(claims(sub=str(customer.id)), key="another-key-of-at-least-32-bytes!!")))


def test_alg_none_is_401(customer):
    assert_401(me(unsigned(claims(sub=str(customer.id)))))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_algorithm_than_configured_is_401(customer):
    assert settings.SIMPLE_JWT["ALGORITHM"] == "HS256"
    assert_401(me(sign(claims(sub=str(customer.id)), algorithm="HS512")))


def test_refresh_token_type_is_401(customer):
    assert_401(me(sign(claims(sub=str(customer.id), token_type="refresh"))))


def test_missing_sub_is_401():
    assert_401(me(sign(claims(sub=None))))
    assert Customer.objects.count() == 0


def test_non_uuid_sub_is_401():
    assert_401(me(sign(claims(sub="12345"))))
    assert Customer.objects.count() == 0


def test_unknown_sub_provisions_a_customer():
    sub = uuid.uuid4()
    response = me(sign(claims(sub=str(sub), email="new@example.test")))
    assert response.status_code == 200
    created = Customer.objects.get(pk=sub)
    assert created.email == "new@example.test" and created.tombstoned_at is None
    assert me(sign(claims(sub=str(sub)))).status_code == 200
    assert Customer.objects.count() == 1


def test_tombstoned_customer_is_401(customer):
    Customer.objects.filter(pk=customer.pk).update(tombstoned_at=timezone.now())
    assert_401(me(token_for(customer, "pro_plus")))


def test_last_seen_is_refreshed_at_most_every_ten_minutes(customer):
    long_ago = timezone.now() - timedelta(hours=1)
    Customer.objects.filter(pk=customer.pk).update(last_seen_at=long_ago)
    me(token_for(customer))
    seen = Customer.objects.get(pk=customer.pk).last_seen_at
    assert seen > long_ago
    me(token_for(customer))
    assert Customer.objects.get(pk=customer.pk).last_seen_at == seen


def test_tier_comes_from_the_current_token_only(customer):
    assert me(token_for(customer, "free")).json()["tier"] == "free"
    assert me(token_for(customer, "pro_plus")).json()["tier"] == "pro_plus"
    assert me(token_for(customer, None)).json()["tier"] is None
    assert me(sign(claims(sub=str(customer.id), tier="enterprise"))).json()["tier"] is None


@pytest.mark.urls(PROBE_URLS)
@pytest.mark.parametrize("tier, status", [("pro", 200), ("pro_plus", 200), ("free", 403), (None, 403),
                                          ("PRO", 403), ("enterprise", 403)])
def test_tier_gate_fails_closed(customer, tier, status):
    response = bearer(APIClient(), sign(claims(sub=str(customer.id), tier=tier))).get("/api/probe/pro")
    assert response.status_code == status
    if status == 403:
        assert response.json() == {"error": "tier_insufficient"}


@pytest.mark.urls(PROBE_URLS)
def test_tier_gate_without_token_is_401():
    assert_401(APIClient().get("/api/probe/pro"), code="not_authenticated")


def test_tier_in_refuses_unknown_tiers():
    with pytest.raises(ValueError):
        tier_in("gold")


ISS, AUD = "https://queue.example", "raxx-api"


@pytest.fixture
def iss_aud(settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ISSUER": ISS, "AUDIENCE": AUD}


@pytest.mark.usefixtures("iss_aud")
class TestIssuerAndAudienceWhenConfigured:
    def test_matching_iss_and_aud_pass(self, customer):
        assert me(sign(claims(sub=str(customer.id), iss=ISS, aud=AUD))).status_code == 200
        assert me(token_for(customer)).status_code == 200  # issue_token stamps both

    @pytest.mark.parametrize("iss, aud", [("https://evil.example", AUD), (ISS, "other-api"), (None, AUD), (ISS, None)])
    def test_wrong_or_missing_iss_or_aud_is_401(self, customer, iss, aud):
        assert_401(me(sign(claims(sub=str(customer.id), iss=iss, aud=aud))))


def test_iss_and_aud_are_not_required_when_not_configured(customer):
    assert me(sign(claims(sub=str(customer.id), iss="anyone", aud="anything"))).status_code == 200


@pytest.fixture(scope="module")
def rsa_keys():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


@pytest.fixture
def rs256(rsa_keys, settings):
    hs_key = settings.SIMPLE_JWT["SIGNING_KEY"]
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ALGORITHM": "RS256", "SIGNING_KEY": "",
                           "VERIFYING_KEY": rsa_keys[1]}
    return rsa_keys[0], rsa_keys[1], hs_key


def test_rs256_with_verifying_key_accepts_queue_signed_tokens(rs256, customer):
    private_pem, _, _ = rs256
    assert me(sign(claims(sub=str(customer.id)), key=private_pem, algorithm="RS256")).status_code == 200


def test_rs256_refuses_hs_signed_tokens(rs256, customer):
    _, public_pem, hs_key = rs256
    assert_401(me(sign(claims(sub=str(customer.id)), key=hs_key)))


def test_rs256_refuses_the_public_key_used_as_an_hmac_secret(rs256, customer):
    _, public_pem, _ = rs256
    header = base64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    body = base64url_encode(json.dumps(claims(sub=str(customer.id))).encode())
    signature = base64url_encode(hmac.new(public_pem.encode(), header + b"." + body, hashlib.sha256).digest())
    assert_401(me((header + b"." + body + b"." + signature).decode()))


def test_issue_token_refuses_an_asymmetric_algorithm(rs256, customer):
    with pytest.raises(CommandError, match="JWT_ALGORITHM is RS256"):
        call_command("issue_token", "--sub", str(customer.id), "--tier", "pro")


def test_hs256_is_back_after_the_rs256_tests(customer):
    assert me(token_for(customer)).status_code == 200


# --- a token verified once (raxx.auth.VerifiedTokenBackend) -----------------------------------


def test_a_remembered_token_is_refused_once_it_expires(customer):
    """The backend remembers a verified token, but never past its exp: 200, then 401 once expired."""
    import time

    from raxx.auth import token_backend

    exp = int(time.time()) + 2
    token = sign(claims(sub=str(customer.id), exp=exp))
    assert me(token).status_code == 200
    assert token_backend().remembers(token)
    time.sleep(max(0.0, exp - time.time()) + 0.05)
    with pytest.raises(TokenBackendExpiredToken):  # the backend itself refuses it, before simplejwt's own check
        token_backend().decode(token)
    assert_401(me(token))


def test_a_remembered_token_is_refused_after_the_key_rotates(customer, settings):
    token = token_for(customer, "pro")
    assert me(token).status_code == 200
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "a-rotated-key-of-at-least-32-bytes!"}
    assert_401(me(token))


def test_a_remembered_payload_with_another_signature_is_refused(customer):
    payload = claims(sub=str(customer.id))
    assert me(sign(payload)).status_code == 200
    assert_401(me(sign(payload, key="another-key-of-at-least-32-bytes!!")))
    header, body, signature = sign(payload).split(".")
    assert_401(me(f"{header}.{body}.{signature[:-2]}AA"))


def test_the_remembered_tokens_are_bounded_and_handed_out_as_copies(customer, monkeypatch):
    from raxx.auth import VerifiedTokenBackend, token_backend

    monkeypatch.setattr(VerifiedTokenBackend, "REMEMBERED", 3)
    backend = token_backend()
    tokens = [sign(claims(sub=str(customer.id))) for _ in range(5)]
    for token in tokens:
        backend.decode(token)
    assert [backend.remembers(t) for t in tokens] == [False, False, True, True, True]
    assert len(backend._verified) == 3
    assert not any(t.encode() in key or t in str(key) for t in tokens for key in backend._verified)  # digests only
    backend.decode(tokens[-1])["tier"] = "pro_plus"
    assert backend.decode(tokens[-1])["tier"] == "pro"
    assert me(tokens[-1]).json()["tier"] == "pro"
