"""Demo data for ``manage.py seed_demo``: paper trades and the labels their owner recorded."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from raxx.models import Customer

from .models import PaperOrder, TradeSentimentLabel
from .services import sentiment_labels_lock_due

DEMO_PREFIX = "demo-"
# (symbol, side, quantity, entry, exit or None, strategy, pre, post, days since close)
TRADES = [
    ("AAPL", "buy", "10", "182.40", "188.10", "momentum", "Bullish", "FollowedPlan", 9),
    ("MSFT", "buy", "5", "411.00", "404.25", "momentum", "Bullish", "OverrodeRule", 8),
    ("SPY", "sell", "4", "521.30", "515.80", "mean_reversion", "Bearish", "FollowedPlan", 7),
    ("NVDA", "buy", "3", "880.00", "905.50", "breakout", "HighUncertainty", "HeldThroughPressure", 6),
    ("TSLA", "sell", "6", "172.10", "178.90", "mean_reversion", "Bearish", "UnexpectedOutcome", 5),
    ("AMD", "buy", "12", "158.20", "161.00", "breakout", "Neutral", "AdjustedWithReason", 4),
    ("QQQ", "buy", "4", "440.10", "437.70", "momentum", "Bullish", "OverrodeRule", 3),
    ("META", "buy", "2", "492.00", "503.40", "breakout", "Bullish", "FollowedPlan", 2),
    ("IWM", "sell", "8", "205.60", "203.10", "mean_reversion", "Neutral", None, 1.5),
    ("GOOGL", "buy", "7", "171.30", "170.10", "momentum", "HighUncertainty", "AdjustedWithReason", 0.5),
    ("AMZN", "buy", "6", "183.70", None, "momentum", "Bullish", None, None),
]


def _pnl(side: str, quantity: Decimal, entry: Decimal, exit_price: Decimal) -> Decimal:
    move = exit_price - entry
    return move * quantity if side == "buy" else -move * quantity


@transaction.atomic
def _seed_customer(customer: Customer, *, with_labels: bool) -> tuple[int, int]:
    now = timezone.now()
    orders = labels = 0
    for i, (symbol, side, qty, entry, exit_price, strategy, pre, post, days) in enumerate(TRADES):
        quantity, entry_price = Decimal(qty), Decimal(entry)
        order = PaperOrder(customer=customer, symbol=symbol, side=side, quantity=quantity, entry_price=entry_price,
                           strategy_type=DEMO_PREFIX + strategy, opened_at=now - timedelta(days=12 - i))
        if exit_price is not None:
            order.exit_price = Decimal(exit_price)
            order.status = PaperOrder.Status.CLOSED
            order.closed_at = now - timedelta(days=days)
            order.realized_pnl = _pnl(side, quantity, entry_price, order.exit_price)
        order.save()
        orders += 1
        if with_labels:
            recorded = order.opened_at
            TradeSentimentLabel.objects.create(
                customer=customer, trade=order, pre_label=pre, pre_label_recorded_at=recorded,
                post_label=post, post_label_recorded_at=order.closed_at if post else None,
                journal_note="Entry matched the written plan." if i % 4 == 0 else None,
                created_at=recorded, updated_at=order.closed_at or recorded)
            labels += 1
    return orders, labels


def seed_demo(*, demo_customers: list[tuple[Customer, str]], stdout) -> None:
    """Paper trades for each demo customer; labels for the first (the journal is tier-independent)."""
    made_orders = made_labels = 0
    for index, (customer, _tier) in enumerate(demo_customers):
        if PaperOrder.objects.filter(customer=customer, strategy_type__startswith=DEMO_PREFIX).exists():
            continue
        orders, labels = _seed_customer(customer, with_labels=index == 0)
        made_orders += orders
        made_labels += labels
    locked = sentiment_labels_lock_due()
    stdout.write(f"journal: {made_orders} paper orders, {made_labels} sentiment labels created, "
                 f"{locked} labels locked\n")
