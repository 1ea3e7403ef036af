"""Console test data (``fill``: a customer holding a few rows of every kind), invites, a software
authenticator, enrolled operators, and (from ``browser.py``) the real-Chromium harness."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from journal.models import PaperOrder, TradeSentimentLabel
from raxx.console.operators import operator_invite
from raxx.audit import audit_log
from walkthrough.models import WalkthroughProgram, WalkthroughProgress
from wcb.models import HORIZON_EOD, HORIZON_EOM, ClosedPosition, WcbSnapshot

from .authenticator import SoftAuthenticator
from .browser import browser_page, console_server  # noqa: F401  (fixtures)

NOTE = "SECRET-NOTE-TEXT my private reason for this trade"


def fill(customer, n: int = 1, *, program=None) -> None:
    """``n`` orders (closed, labelled with a note), positions with snapshots, audit events;
    one walkthrough row under the customer's email."""
    now = timezone.now()
    for i in range(n):
        order = PaperOrder.objects.create(
            customer=customer, symbol=f"S{i}", side="buy", quantity=Decimal("3"), entry_price=Decimal("100.123456"),
            exit_price=Decimal("101.987654"), status="closed", opened_at=now - timedelta(days=2),
            closed_at=now - timedelta(days=1), realized_pnl=Decimal("5.592594000000"))
        TradeSentimentLabel.objects.create(
            customer=customer, trade=order, pre_label="Bullish", pre_label_recorded_at=now - timedelta(days=2),
            post_label="FollowedPlan", post_label_recorded_at=now - timedelta(days=1), journal_note=NOTE,
            created_at=now, updated_at=now)
        position = ClosedPosition.objects.create(
            customer=customer, symbol=f"S{i}", quantity=Decimal("3"), cost_basis=Decimal("100.123456"),
            close_price=Decimal("101.987654"), closed_at=now - timedelta(days=1, minutes=i))
        WcbSnapshot.objects.create(
            position=position, user_id=customer.pk, symbol=f"S{i}", tracking_horizon=HORIZON_EOD if i % 2 else HORIZON_EOM,
            close_timestamp_utc=position.closed_at, close_price=position.close_price, cost_basis=position.cost_basis,
            position_size_signed=Decimal("3"), actual_pnl=Decimal("5.592594"))
        audit_log("paper_order_opened", customer=customer, actor=f"customer:{customer.pk}",
                  data={"order_id": order.pk, "symbol": order.symbol, "side": "buy", "quantity": "3"})
    program = program or WalkthroughProgram.objects.get_or_create(
        name="console-test", defaults={"starts_on": now.date(), "ends_on": now.date() + timedelta(days=30)})[0]
    WalkthroughProgress.objects.get_or_create(tester_email=customer.email.lower(), program=program,
                                              defaults={"token_hash": customer.pk.hex * 2, "screen_completed_max": 2})


@pytest.fixture
def staff_client(db, django_user_model):
    """A staff operator who is not a superuser (sees what a CS person sees); its own client."""
    from django.test import Client

    client = Client()
    user = django_user_model.objects.create_user("cs-person", "cs@example.test", is_staff=True)
    from django.contrib.auth.models import Permission

    user.user_permissions.set(Permission.objects.all())
    client.force_login(user)
    return client


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
