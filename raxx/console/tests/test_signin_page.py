"""/admin/login/ is passkey-only: no password field, and no password ever opens a session."""

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY, authenticate, get_user_model
from django.contrib.sessions.models import Session

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_with_a_password(db):
    """A real staff user whose password is usable and known: the attacker's best case."""
    return get_user_model().objects.create_user("legacy", "legacy@example.test", "correct horse battery",
                                                is_staff=True, is_superuser=True)


def test_the_sign_in_page_offers_a_passkey_and_no_password_field(client):
    page = client.get("/admin/login/?next=/admin/flags/registry/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Sign in with a passkey" in html
    assert 'type="password"' not in html and 'name="password"' not in html
    assert 'data-next="/admin/flags/registry/"' in html
    assert "console/passkeys.js" in html and "<script>" not in html  # no inline script (CSP)


def test_admin_pages_send_anonymous_visitors_to_the_passkey_page(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/admin/login/?next=/admin/"
    assert b"Sign in with a passkey" in client.get(response["Location"]).content


def test_posting_the_correct_password_never_creates_a_session(client, staff_with_a_password):
    response = client.post("/admin/login/", {"username": "legacy", "password": "correct horse battery",
                                             "next": "/admin/"})
    assert response.status_code == 405
    assert b"Passwords are not accepted" in response.content
    assert SESSION_KEY not in client.session
    assert not Session.objects.exists() or all(SESSION_KEY not in s.get_decoded() for s in Session.objects.all())
    assert client.get("/admin/").status_code == 302


def test_no_backend_authenticates_a_password(client, staff_with_a_password):
    assert authenticate(username="legacy", password="correct horse battery") is None
    assert client.login(username="legacy", password="correct horse battery") is False
    assert settings.AUTHENTICATION_BACKENDS == ["raxx.console.backends.PasskeyOnlyBackend"]
    assert "django.contrib.auth.backends.ModelBackend" not in settings.AUTHENTICATION_BACKENDS


def test_force_login_still_works_for_tests(admin_client, operator):
    assert not operator.has_usable_password()
    assert admin_client.get("/admin/").status_code == 200


@pytest.mark.parametrize("path", ["/admin/password_change/", "/admin/password_change/done/", "/admin/password_reset/"])
def test_there_is_no_password_page(admin_client, path):
    assert admin_client.get(path).status_code == 404


def test_there_is_no_set_password_page_for_an_operator(admin_client, operator):
    """UserAdmin's <id>/password/ is gone: the admin's catch-all finds no such user and says so."""
    response = admin_client.get(f"/admin/auth/user/{operator.pk}/password/", follow=True)
    assert b'name="password1"' not in response.content and b'type="password"' not in response.content
    assert response.redirect_chain[-1][0] == "/admin/"


def test_the_user_admin_has_no_password_field_and_no_add_form(admin_client, operator):
    page = admin_client.get(f"/admin/auth/user/{operator.pk}/change/")
    assert page.status_code == 200
    assert b'name="password' not in page.content and b"password/" not in page.content
    assert admin_client.get("/admin/auth/user/add/").status_code == 403
    listing = admin_client.get("/admin/auth/user/")
    assert listing.status_code == 200 and b"passkeys" in listing.content


def test_the_user_admin_action_issues_an_enrollment_link(admin_client, operator):
    other = get_user_model().objects.create_user("bob", is_staff=False, is_active=False)
    response = admin_client.post("/admin/auth/user/", {"action": "issue_enrollment_link", "_selected_action": [other.pk]},
                                 follow=True)
    assert response.status_code == 200
    assert f"{settings.WEBAUTHN_ORIGIN}/admin/enroll/".encode() in response.content
    other.refresh_from_db()
    assert other.is_active and other.is_staff and not other.has_usable_password()


def test_a_signed_in_operator_is_sent_on_from_the_sign_in_page(admin_client):
    response = admin_client.get("/admin/login/?next=/admin/auth/user/")
    assert response.status_code == 302 and response["Location"] == "/admin/auth/user/"
    assert admin_client.get("/admin/login/?next=https://evil.example/")["Location"] == "/admin/"


def test_the_admin_header_links_to_passkeys_not_to_a_password(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert 'href="/admin/passkeys/"' in html and "Change password" not in html
