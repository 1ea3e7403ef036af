"""Demo data for ``manage.py seed_demo``: a few closed positions on the shipped fixture symbols.

The pro_plus customer gets close-of-market and monthly snapshots (finalized by
running both jobs now, as the scheduler would have), including an option, a
short, the NVDA split, the HON spinoff and the XGAP data gap; the free customer
gets one closed position and no snapshot (the feature does not exist for them).
"""

from datetime import UTC, datetime
from decimal import Decimal

from . import jobs
from .models import HORIZON_EOD, HORIZON_EOM, ClosedPosition, WcbSetting
from .services import closed_position_record

# (symbol, asset_type, quantity, cost_basis, close_price, multiplier, closed_at UTC, horizon)
PRO_PLUS_POSITIONS = [
    ("AAPL", "equity", "50", "170.12", "182.34", 1, datetime(2026, 4, 15, 19, 45, tzinfo=UTC), HORIZON_EOD),
    ("MSFT", "equity", "-20", "420.00", "410.50", 1, datetime(2026, 5, 6, 15, 30, tzinfo=UTC), HORIZON_EOD),
    ("NVDA", "equity", "10", "880.00", "910.00", 1, datetime(2026, 6, 3, 17, 0, tzinfo=UTC), HORIZON_EOM),
    ("HON", "equity", "15", "200.00", "205.25", 1, datetime(2026, 6, 22, 14, 10, tzinfo=UTC), HORIZON_EOM),
    ("SPY", "call", "2", "5.10", "7.45", 100, datetime(2026, 7, 14, 18, 20, tzinfo=UTC), HORIZON_EOD),
    ("KO", "equity", "100", "62.00", "63.10", 1, datetime(2026, 8, 27, 21, 30, tzinfo=UTC), HORIZON_EOM),
    ("XGAP", "equity", "25", "40.00", "41.00", 1, datetime(2026, 9, 28, 15, 0, tzinfo=UTC), HORIZON_EOM),
]
FREE_POSITION = ("AAPL", "equity", "5", "180.00", "184.00", 1, datetime(2026, 4, 16, 15, 0, tzinfo=UTC))


def _record_once(customer, tier, symbol, asset_type, qty, basis, price, mult, closed_at) -> bool:
    """Idempotent per position: (customer, symbol, closed_at) identifies a demo close.

    Not "any position exists": other demos (the journal's closed paper orders) may
    have recorded positions for the same customer first.
    """
    if ClosedPosition.objects.filter(customer=customer, symbol=symbol, closed_at=closed_at).exists():
        return False
    closed_position_record(customer=customer, tier=tier, symbol=symbol, asset_type=asset_type,
                           quantity=Decimal(qty), cost_basis=Decimal(basis), close_price=Decimal(price),
                           multiplier=mult, closed_at=closed_at)
    return True


def seed_demo(*, demo_customers, stdout) -> None:
    (pro_plus, _), (free, _) = demo_customers[0], demo_customers[1]
    made = 0
    for symbol, asset_type, qty, basis, price, mult, closed_at, horizon in PRO_PLUS_POSITIONS:
        if ClosedPosition.objects.filter(customer=pro_plus, symbol=symbol, closed_at=closed_at).exists():
            continue
        WcbSetting.objects.update_or_create(customer=pro_plus, defaults={"tracking_horizon": horizon})
        made += _record_once(pro_plus, "pro_plus", symbol, asset_type, qty, basis, price, mult, closed_at)
    made_free = _record_once(free, "free", *FREE_POSITION)
    if not made and not made_free:
        stdout.write("wcb: demo positions already present; nothing to do\n")
        return
    eod = jobs.run_manual("eod", trigger="demo")
    eom = jobs.run_manual("eom", trigger="demo")
    stdout.write(f"wcb: {made} closed positions with snapshots for {pro_plus.email or pro_plus.id} "
                 f"(+{int(made_free)} without for the free customer); jobs finalized "
                 f"{eod.finalized + eom.finalized}, {eod.pending + eom.pending} pending\n")
