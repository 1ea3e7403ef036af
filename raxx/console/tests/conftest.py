"""Console test data: a customer holding a few rows of every kind (``fill``)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from journal.models import PaperOrder, TradeSentimentLabel
from raxx.audit import audit_log
from walkthrough.models import WalkthroughProgram, WalkthroughProgress
from wcb.models import HORIZON_EOD, HORIZON_EOM, ClosedPosition, WcbSnapshot

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
