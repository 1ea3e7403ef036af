"""The WebAuthn ceremonies end to end over HTTP, with a software authenticator."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.utils import timezone

from raxx.console.models import OperatorEnrollmentLink, OperatorPasskey
from raxx.console.operators import operator_disable
from raxx.models import AuditEvent

from .authenticator import SoftAuthenticator
from .conftest import REGISTER_BEGIN, REGISTER_COMPLETE, SIGNIN_BEGIN, SIGNIN_COMPLETE, enroll, post, sign_in, token_of

pytestmark = pytest.mark.django_db


def signed_in_as(client):
    return client.session.get(SESSION_KEY)


def events(event_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("id"))


# --- Registration ------------------------------------------------------------------


def test_registration_from_an_invite_stores_the_passkey_uses_the_link_and_signs_in(client, invite, authenticator):
    options = post(client, REGISTER_BEGIN, {"token": token_of(invite.url)}).json()
    assert options["rp"] == {"id": "localhost", "name": "Raxx operator console"}
    assert options["user"]["name"] == "ada"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"

    credential = authenticator.create(options, origin="http://localhost:8000")
    response = post(client, REGISTER_COMPLETE, {"credential": credential, "token": token_of(invite.url),
                                                "name": "Work laptop"})
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "enrolled", "passkey": {"id": OperatorPasskey.objects.get().pk,
                                                                  "name": "Work laptop"}, "redirect": "/admin/"}
    passkey = OperatorPasskey.objects.get()
    assert passkey.user == invite.user and passkey.transports == ["internal"] and passkey.sign_count == 0
    assert bytes(passkey.user_handle) == authenticator.user_handle and len(authenticator.user_handle) == 32
    assert OperatorEnrollmentLink.objects.get().used_at is not None
    assert signed_in_as(client) == str(invite.user.pk)
    assert client.get("/admin/").status_code == 200

    (event,) = events("operator_passkey_enrolled")
    assert event.actor == "operator:ada" and event.customer is None
    assert event.data == {"passkey": "Work laptop", "passkey_id": passkey.pk, "via": "invite"}


def test_an_enrollment_link_works_once(client, invite, authenticator):
    assert enroll(client, invite.url, authenticator).status_code == 200
    client.logout()
    again = post(client, REGISTER_BEGIN, {"token": token_of(invite.url)})
    assert again.status_code == 400 and again.json()["error"] == "enrollment_link_invalid"
    assert client.get(f"/admin/enroll/{token_of(invite.url)}/").status_code == 410
    assert OperatorPasskey.objects.count() == 1


def test_a_link_used_between_begin_and_complete_is_refused(client, invite, authenticator):
    """Two tabs on one link: the first registration uses it, the second is refused."""
    token = token_of(invite.url)
    options = post(client, REGISTER_BEGIN, {"token": token}).json()
    OperatorEnrollmentLink.objects.update(used_at=timezone.now())
    response = post(client, REGISTER_COMPLETE, {"credential": authenticator.create(options, origin="http://localhost:8000"),
                                                "token": token})
    assert response.status_code == 400 and response.json()["error"] == "enrollment_link_invalid"
    assert not OperatorPasskey.objects.exists() and signed_in_as(client) is None
    (failed,) = events("operator_ceremony_failed")
    assert failed.actor == "operator:ada" and failed.data["ceremony"] == "register"


def test_an_expired_enrollment_link_is_refused(client, invite):
    OperatorEnrollmentLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = post(client, REGISTER_BEGIN, {"token": token_of(invite.url)})
    assert response.status_code == 400 and response.json()["error"] == "enrollment_link_invalid"
    page = client.get(f"/admin/enroll/{token_of(invite.url)}/")
    assert page.status_code == 410 and b"expired or was already used" in page.content


def test_the_link_expires_fifteen_minutes_after_the_invite(invite):
    link = OperatorEnrollmentLink.objects.get()
    assert timedelta(minutes=14, seconds=59) < link.expires_at - link.created_at <= timedelta(minutes=15)


def test_registration_from_the_wrong_origin_is_refused(client, invite, authenticator):
    response = enroll(client, invite.url, authenticator, origin="https://evil.example")
    assert response.status_code == 400 and response.json()["error"] == "passkey_rejected"
    assert not OperatorPasskey.objects.exists() and signed_in_as(client) is None
    assert OperatorEnrollmentLink.objects.get().used_at is None  # a failed ceremony does not use the link
    (failed,) = events("operator_ceremony_failed")
    assert "origin" in failed.data["reason"]


def test_registration_for_another_rp_id_is_refused(client, invite, authenticator):
    response = enroll(client, invite.url, authenticator, rp_id="evil.example")
    assert response.status_code == 400 and response.json()["error"] == "passkey_rejected"
    assert not OperatorPasskey.objects.exists()


def test_a_signed_in_operator_adds_a_second_passkey(client, enrolled, authenticator):
    assert sign_in(client, authenticator).status_code == 200
    options = post(client, REGISTER_BEGIN, {}).json()
    assert [c["id"] for c in options["excludeCredentials"]] == [enrolled.passkeys.get().credential_id]
    second = SoftAuthenticator()
    response = post(client, REGISTER_COMPLETE, {"credential": second.create(options, origin="http://localhost:8000"),
                                                "name": "Backup key"})
    assert response.status_code == 200 and response.json()["redirect"] == "/admin/passkeys/"
    assert list(enrolled.passkeys.values_list("name", flat=True)) == ["Laptop", "Backup key"]
    assert second.user_handle == authenticator.user_handle  # one user handle per operator
    assert events("operator_passkey_enrolled")[-1].data["via"] == "console"


def test_registration_without_an_invite_or_a_session_is_refused(client, db):
    response = post(client, REGISTER_BEGIN, {})
    assert response.status_code == 403 and response.json()["error"] == "not_authenticated"


# --- Sign-in -------------------------------------------------------------------------


def test_sign_in_with_the_passkey(client, enrolled, authenticator):
    response = sign_in(client, authenticator)
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "signed_in", "redirect": "/admin/"}
    assert signed_in_as(client) == str(enrolled.pk)
    assert client.get("/admin/").status_code == 200
    passkey = enrolled.passkeys.get()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    (event,) = events("operator_signed_in")
    assert event.actor == "operator:ada" and event.data == {"passkey": "Laptop", "passkey_id": passkey.pk}
    assert "public_key" not in str(event.data) and passkey.credential_id not in str(event.data)


def test_sign_in_with_a_username_offers_only_that_operators_passkeys(client, enrolled, authenticator):
    options = post(client, SIGNIN_BEGIN, {"username": "ada"}).json()
    assert [c["id"] for c in options["allowCredentials"]] == [enrolled.passkeys.get().credential_id]
    assert options["userVerification"] == "required" and options["rpId"] == "localhost"
    unknown = post(client, SIGNIN_BEGIN, {"username": "nobody"}).json()
    assert unknown["allowCredentials"] == []  # same shape as a discoverable sign-in: nothing to probe


def test_sign_in_goes_to_next_when_it_is_local(client, enrolled, authenticator):
    options = post(client, SIGNIN_BEGIN, {}).json()
    credential = authenticator.get(options, origin="http://localhost:8000")
    response = post(client, SIGNIN_COMPLETE, {"credential": credential, "next": "https://evil.example/"})
    assert response.json()["redirect"] == "/admin/"
    client.logout()
    options = post(client, SIGNIN_BEGIN, {}).json()
    credential = authenticator.get(options, origin="http://localhost:8000")
    response = post(client, SIGNIN_COMPLETE, {"credential": credential, "next": "/admin/raxx/customer/"})
    assert response.json()["redirect"] == "/admin/raxx/customer/"


@pytest.mark.parametrize("kwargs, reason", [
    ({"origin": "https://evil.example"}, "origin"),
    ({"origin": "http://localhost:8001"}, "origin"),
    ({"rp_id": "evil.example"}, "RP ID"),
])
def test_sign_in_from_the_wrong_origin_or_rp_id_is_refused(client, enrolled, authenticator, kwargs, reason):
    response = sign_in(client, authenticator, **kwargs)
    assert response.status_code == 400 and response.json()["error"] == "passkey_rejected"
    assert signed_in_as(client) is None
    (failed,) = events("operator_ceremony_failed")
    assert failed.actor == "operator:ada" and failed.data["ceremony"] == "signin" and reason in failed.data["reason"]


def test_a_replayed_assertion_is_refused(client, enrolled, authenticator):
    options = post(client, SIGNIN_BEGIN, {}).json()
    credential = authenticator.get(options, origin="http://localhost:8000")
    assert post(client, SIGNIN_COMPLETE, {"credential": credential}).status_code == 200
    client.logout()
    replay = post(client, SIGNIN_COMPLETE, {"credential": credential})
    assert replay.status_code == 400 and replay.json()["error"] == "challenge_expired"
    assert signed_in_as(client) is None


def test_an_answer_to_a_challenge_of_another_session_is_refused(client, enrolled, authenticator):
    """The challenge lives in the session that asked: another session's answer matches nothing."""
    from django.test import Client

    django_app_client = Client()
    options = post(client, SIGNIN_BEGIN, {}).json()
    credential = authenticator.get(options, origin="http://localhost:8000")
    post(django_app_client, SIGNIN_BEGIN, {})
    stolen = post(django_app_client, SIGNIN_COMPLETE, {"credential": credential})
    assert stolen.status_code == 400 and stolen.json()["error"] == "passkey_rejected"
    assert "challenge" in events("operator_ceremony_failed")[-1].data["reason"]


def test_a_challenge_is_used_once_even_when_the_answer_fails(client, enrolled, authenticator):
    options = post(client, SIGNIN_BEGIN, {}).json()
    bad = authenticator.get(options, origin="https://evil.example")
    assert post(client, SIGNIN_COMPLETE, {"credential": bad}).status_code == 400
    good = authenticator.get(options, origin="http://localhost:8000")
    response = post(client, SIGNIN_COMPLETE, {"credential": good})
    assert response.status_code == 400 and response.json()["error"] == "challenge_expired"


def test_a_signature_counter_that_goes_back_is_refused(client, enrolled, authenticator):
    assert sign_in(client, authenticator, sign_count=5).status_code == 200
    client.logout()
    response = sign_in(client, authenticator, sign_count=3)  # a cloned authenticator
    assert response.status_code == 400 and response.json()["error"] == "passkey_rejected"
    assert enrolled.passkeys.get().sign_count == 5
    assert "sign count" in events("operator_ceremony_failed")[-1].data["reason"]
    same = sign_in(client, authenticator, sign_count=5)
    assert same.status_code == 400


def test_a_signature_by_another_key_is_refused(client, enrolled, authenticator):
    impostor = SoftAuthenticator()
    impostor.credential_id, impostor.user_handle, impostor.rp_id = (
        authenticator.credential_id, authenticator.user_handle, "localhost")
    response = sign_in(client, impostor)
    assert response.status_code == 400 and signed_in_as(client) is None
    assert "signature" in events("operator_ceremony_failed")[-1].data["reason"]


def test_an_unknown_credential_is_refused_and_audited_as_anonymous(client, enrolled):
    stranger = SoftAuthenticator()
    stranger.rp_id = "localhost"
    response = sign_in(client, stranger)
    assert response.status_code == 400 and response.json()["error"] == "passkey_rejected"
    (failed,) = events("operator_ceremony_failed")
    assert failed.actor == "anonymous" and failed.data["reason"] == "unknown credential"


def test_a_disabled_operator_cannot_sign_in_and_loses_the_session_at_once(client, enrolled, authenticator):
    assert sign_in(client, authenticator).status_code == 200
    operator_disable(username="ada", actor="test")
    assert client.get("/admin/").status_code == 302  # the session was ended
    response = sign_in(client, authenticator)
    assert response.status_code == 400 and response.json()["error"] == "passkey_rejected"
    assert signed_in_as(client) is None


def test_a_non_staff_owner_cannot_sign_in(client, enrolled, authenticator):
    type(enrolled).objects.filter(pk=enrolled.pk).update(is_staff=False)
    response = sign_in(client, authenticator)
    assert response.status_code == 400 and "disabled" in events("operator_ceremony_failed")[-1].data["reason"]


@pytest.mark.parametrize("body", [{}, {"credential": "x"}, {"credential": {}}, {"credential": {"id": 5}},
                                  {"credential": {"id": "abc", "rawId": "abc", "type": "public-key",
                                                  "response": {"clientDataJSON": "!!"}}}])
def test_malformed_answers_are_a_clear_400(client, enrolled, body):
    post(client, SIGNIN_BEGIN, {})
    response = post(client, SIGNIN_COMPLETE, body)
    assert response.status_code == 400 and response.json()["error"] in ("invalid_request", "passkey_rejected")


def test_complete_without_begin_is_refused(client, enrolled, authenticator):
    credential = authenticator.get({"challenge": "AAAA", "rpId": "localhost"}, origin="http://localhost:8000")
    response = post(client, SIGNIN_COMPLETE, {"credential": credential})
    assert response.status_code == 400 and response.json()["error"] == "challenge_expired"


def test_ceremonies_need_the_csrf_token_of_the_page(db, enrolled):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post(strict, SIGNIN_BEGIN, {}).status_code == 403
    page = strict.get("/admin/login/")
    token = page.cookies["csrftoken"].value
    assert post(strict, SIGNIN_BEGIN, {}, HTTP_X_CSRFTOKEN=token).status_code == 200


def test_an_abandoned_sign_in_keeps_its_session_five_minutes_and_a_signed_in_one_the_usual_age(
        client, enrolled, authenticator):
    from django.conf import settings as django_settings

    post(client, SIGNIN_BEGIN, {})
    assert client.session.get_expiry_age() == 300
    credential = authenticator.get(post(client, SIGNIN_BEGIN, {}).json(), origin="http://localhost:8000")
    assert post(client, SIGNIN_COMPLETE, {"credential": credential}).status_code == 200
    assert client.session.get_expiry_age() == django_settings.SESSION_COOKIE_AGE
