"""operator_invite / operator_disable, and the passkeys page (list, add, revoke)."""

import io
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import Client

from raxx.console.models import OperatorEnrollmentLink, OperatorPasskey
from raxx.console.operators import _token_hash, operator_invite
from raxx.models import AuditEvent

from .authenticator import SoftAuthenticator
from .conftest import enroll, sign_in, token_of

pytestmark = pytest.mark.django_db
User = get_user_model()


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


# --- operator_invite -----------------------------------------------------------------


def test_invite_creates_a_staff_user_without_a_password_and_prints_the_link_last():
    lines = run("operator_invite", "grace", "--email", "grace@example.test", "--superuser")
    url = lines[-1]
    assert re.fullmatch(r"http://localhost:8000/admin/enroll/[\w-]{43}/", url)
    user = User.objects.get(username="grace")
    assert user.is_staff and user.is_superuser and user.is_active and user.email == "grace@example.test"
    assert not user.has_usable_password()
    link = OperatorEnrollmentLink.objects.get(user=user)
    assert link.token_hash == _token_hash(token_of(url)) and token_of(url) not in link.token_hash  # only the hash
    event = AuditEvent.objects.get(event_type="operator_invited")
    assert event.actor == "cli:operator_invite" and event.data["operator"] == "grace" and event.data["created"]
    assert token_of(url) not in str(event.data)


def test_the_link_follows_webauthn_origin(settings):
    settings.WEBAUTHN_ORIGIN = "https://console.raxx.example"
    assert run("operator_invite", "grace")[-1].startswith("https://console.raxx.example/admin/enroll/")


def test_invite_makes_an_existing_users_password_unusable_and_keeps_superuser_unless_asked():
    user = User.objects.create_user("old", password="correct horse battery", is_staff=False, is_active=False)
    run("operator_invite", "old")
    user.refresh_from_db()
    assert user.is_staff and user.is_active and not user.is_superuser and not user.has_usable_password()


def test_a_new_invite_replaces_the_open_link(client):
    first = operator_invite(username="grace", actor="test")
    second = operator_invite(username="grace", actor="test")
    assert OperatorEnrollmentLink.objects.count() == 1
    assert client.get(f"/admin/enroll/{token_of(first.url)}/").status_code == 410
    assert client.get(f"/admin/enroll/{token_of(second.url)}/").status_code == 200


def test_the_enrollment_page_names_the_operator_and_has_no_password_field(client):
    invite = operator_invite(username="grace", actor="test")
    page = client.get(f"/admin/enroll/{token_of(invite.url)}/")
    html = page.content.decode()
    assert page.status_code == 200 and "grace" in html and "Register a passkey" in html
    assert 'type="password"' not in html
    assert OperatorEnrollmentLink.objects.get().used_at is None  # opening the page does not use the link


# --- operator_disable ----------------------------------------------------------------


def test_disable_ends_every_session_and_blocks_sign_in_until_a_new_invite(enrolled, authenticator):
    browsers = [Client(), Client()]
    for browser in browsers:
        assert sign_in(browser, authenticator).status_code == 200
    bystander = User.objects.create_user("bystander", is_staff=True)
    other_session = Client()
    other_session.force_login(bystander)

    lines = run("operator_disable", "ada")
    assert lines[-1].startswith("Operator ada disabled: 2 session(s) ended, 1 passkey(s) revoked.")
    for browser in browsers:
        assert browser.get("/admin/").status_code == 302
    assert other_session.get("/admin/").status_code == 200  # only ada's sessions end
    assert Session.objects.count() == 1
    enrolled.refresh_from_db()
    assert not enrolled.is_active and not OperatorPasskey.objects.filter(user=enrolled).exists()
    assert sign_in(Client(), authenticator).status_code == 400
    event = AuditEvent.objects.get(event_type="operator_disabled")
    assert event.actor == "cli:operator_disable"
    assert event.data == {"operator": "ada", "sessions_ended": 2, "passkeys_revoked": 1}

    # A new invite lets ada back in with a new passkey.
    url = run("operator_invite", "ada")[-1]
    fresh = SoftAuthenticator()
    client = Client()
    assert enroll(client, url, fresh).status_code == 200
    assert client.get("/admin/").status_code == 200


def test_disable_also_closes_an_open_invite(client):
    invite = operator_invite(username="grace", actor="test")
    run("operator_disable", "grace")
    assert client.get(f"/admin/enroll/{token_of(invite.url)}/").status_code == 410


def test_disable_of_an_unknown_operator_says_so():
    with pytest.raises(CommandError, match="No operator named 'nobody'"):
        run("operator_disable", "nobody")


# --- The passkeys page ---------------------------------------------------------------


@pytest.fixture
def ada_client(enrolled, authenticator):
    client = Client()
    assert sign_in(client, authenticator).status_code == 200
    return client


def add_passkey(user, name: str) -> OperatorPasskey:
    return OperatorPasskey.objects.create(user=user, name=name, credential_id=f"cred-{user.pk}-{name}",
                                          public_key=b"k", user_handle=b"h")


def test_the_passkeys_page_lists_mine_and_the_last_one_cannot_be_revoked_by_me(ada_client, enrolled):
    page = ada_client.get("/admin/passkeys/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Laptop" in html and "only another operator can revoke it" in html
    passkey = enrolled.passkeys.get()
    response = ada_client.post(f"/admin/passkeys/{passkey.pk}/revoke/", follow=True)
    assert response.status_code == 200 and b"can only be revoked by another operator" in response.content
    assert OperatorPasskey.objects.filter(pk=passkey.pk).exists()
    assert not AuditEvent.objects.filter(event_type="operator_passkey_revoked").exists()


def test_i_revoke_one_of_my_two_passkeys(ada_client, enrolled):
    spare = add_passkey(enrolled, "Spare")
    response = ada_client.post(f"/admin/passkeys/{spare.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/admin/passkeys/"
    assert list(enrolled.passkeys.values_list("name", flat=True)) == ["Laptop"]
    event = AuditEvent.objects.get(event_type="operator_passkey_revoked")
    assert event.actor == "operator:ada" and event.data == {"operator": "ada", "passkey": "Spare", "passkey_id": spare.pk}


def test_another_operator_revokes_my_last_passkey(enrolled, admin_client):
    passkey = enrolled.passkeys.get()
    page = admin_client.get("/admin/passkeys/")
    assert b"Other operators' passkeys" in page.content and b"Laptop" in page.content
    assert admin_client.post(f"/admin/passkeys/{passkey.pk}/revoke/").status_code == 302
    assert not enrolled.passkeys.exists()
    event = AuditEvent.objects.get(event_type="operator_passkey_revoked")
    assert event.actor == "operator:operator" and event.data["operator"] == "ada"


def test_a_staff_operator_without_the_permission_sees_and_revokes_only_their_own(enrolled, db):
    plain = User.objects.create_user("plain", is_staff=True)
    add_passkey(plain, "Mine")
    client = Client()
    client.force_login(plain)
    page = client.get("/admin/passkeys/")
    assert b"Mine" in page.content and b"Laptop" not in page.content
    assert client.post(f"/admin/passkeys/{enrolled.passkeys.get().pk}/revoke/").status_code == 404
    assert enrolled.passkeys.exists()


def test_the_passkeys_page_needs_a_signed_in_operator(client, db):
    response = client.get("/admin/passkeys/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.post("/admin/passkeys/1/revoke/").status_code == 302


def test_revoke_is_post_only(enrolled, admin_client):
    assert admin_client.get(f"/admin/passkeys/{enrolled.passkeys.get().pk}/revoke/").status_code == 405


def test_settings_defaults():
    assert settings.WEBAUTHN_RP_ID == "localhost" and settings.WEBAUTHN_ORIGIN == "http://localhost:8000"
    assert settings.THROTTLE_OPERATOR_SIGNIN == "10/min"
