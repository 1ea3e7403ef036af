from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from journal.models import PaperOrder, TradeSentimentLabel

FLAG = "FLAG_SENTIMENT_JOURNAL"


@pytest.fixture
def journal_on(flags):
    flags.on(FLAG)
    return flags


def make_order(customer, *, symbol="AAPL", side="buy", quantity="10", entry="100", exit=None,
               closed_ago: timedelta | None = None, strategy_type=None, opened_at=None) -> PaperOrder:
    now = timezone.now()
    order = PaperOrder(customer=customer, symbol=symbol, side=side, quantity=Decimal(quantity),
                       entry_price=Decimal(entry), strategy_type=strategy_type, opened_at=opened_at or now)
    if exit is not None:
        order.exit_price = Decimal(exit)
        move = order.exit_price - order.entry_price
        order.realized_pnl = move * order.quantity if side == "buy" else -move * order.quantity
        order.status = "closed"
        order.closed_at = now - (closed_ago or timedelta(0))
    order.save()
    return order


def make_label(customer, order, *, pre="Bullish", post=None, note=None, locked=False) -> TradeSentimentLabel:
    now = timezone.now()
    return TradeSentimentLabel.objects.create(
        customer=customer, trade=order, pre_label=pre, pre_label_recorded_at=now, post_label=post,
        post_label_recorded_at=now if post else None, journal_note=note,
        post_label_locked_at=now if locked else None, created_at=now, updated_at=now)
