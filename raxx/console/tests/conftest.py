"""Fixtures of the console tests: invites, a software authenticator, enrolled operators,
and (from ``browser.py``) the real-Chromium harness."""

import pytest
from django.conf import settings

from raxx.console.operators import operator_invite

from .authenticator import SoftAuthenticator
from .browser import browser_page, console_server  # noqa: F401  (fixtures)

REGISTER_BEGIN = "/admin/passkeys/register/begin/"
REGISTER_COMPLETE = "/admin/passkeys/register/complete/"
SIGNIN_BEGIN = "/admin/passkeys/signin/begin/"
SIGNIN_COMPLETE = "/admin/passkeys/signin/complete/"


def post(client, path: str, body: dict, **extra):
    return client.post(path, body, content_type="application/json", **extra)


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def enroll(client, url: str, authenticator: SoftAuthenticator, *, origin: str | None = None,
           rp_id: str | None = None, name: str = "Laptop"):
    """Register a passkey through the JSON ceremony from an invite URL; the complete response."""
    token = token_of(url)
    options = post(client, REGISTER_BEGIN, {"token": token}).json()
    credential = authenticator.create(options, origin=origin or settings.WEBAUTHN_ORIGIN, rp_id=rp_id)
    return post(client, REGISTER_COMPLETE, {"credential": credential, "token": token, "name": name})


def sign_in(client, authenticator: SoftAuthenticator, *, origin: str | None = None, rp_id: str | None = None,
            sign_count: int | None = None, username: str | None = None, **extra):
    options = post(client, SIGNIN_BEGIN, {"username": username} if username else {}, **extra).json()
    credential = authenticator.get(options, origin=origin or settings.WEBAUTHN_ORIGIN, rp_id=rp_id,
                                   sign_count=sign_count)
    return post(client, SIGNIN_COMPLETE, {"credential": credential}, **extra)


@pytest.fixture
def invite(db):
    return operator_invite(username="ada", email="ada@example.test", actor="test")


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator()


@pytest.fixture
def enrolled(client, invite, authenticator):
    """Operator ``ada`` with one passkey (on ``authenticator``), then signed out."""
    assert enroll(client, invite.url, authenticator).status_code == 200
    client.logout()
    invite.user.refresh_from_db()
    return invite.user
