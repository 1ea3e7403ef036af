import io

from raxx.models import Customer
from wcb.demo import PRO_PLUS_POSITIONS, seed_demo
from wcb.models import ClosedPosition, WcbSnapshot

from conftest import make_customer


def test_seed_demo_is_idempotent_and_finalizes_some_rows(db):
    pro_plus, free = make_customer(), make_customer()
    out = io.StringIO()
    seed_demo(demo_customers=[(pro_plus, "pro_plus"), (free, "free")], stdout=out)
    seed_demo(demo_customers=[(pro_plus, "pro_plus"), (free, "free")], stdout=out)
    assert ClosedPosition.objects.filter(customer=pro_plus).count() == len(PRO_PLUS_POSITIONS)
    assert ClosedPosition.objects.filter(customer=free).count() == 1
    assert not WcbSnapshot.objects.filter(user_id=free.id).exists()
    assert WcbSnapshot.objects.filter(user_id=pro_plus.id, horizon_reached=True).count() >= 4
    assert WcbSnapshot.objects.filter(user_id=pro_plus.id, tracking_horizon="monthly").exists()
    assert len(out.getvalue().strip().splitlines()) == 2
    assert Customer.objects.count() == 2


def test_seed_demo_still_seeds_when_another_demo_recorded_positions_first(db):
    from datetime import UTC, datetime
    from decimal import Decimal

    from wcb.services import closed_position_record

    pro_plus, free = make_customer(), make_customer()
    closed_position_record(customer=pro_plus, tier="pro_plus", symbol="MSFT", asset_type="equity",
                           quantity=Decimal(1), cost_basis=Decimal(1), close_price=Decimal(2),
                           closed_at=datetime(2026, 3, 3, 15, 0, tzinfo=UTC))  # e.g. a journal paper order
    seed_demo(demo_customers=[(pro_plus, "pro_plus"), (free, "free")], stdout=io.StringIO())
    assert ClosedPosition.objects.filter(customer=pro_plus).count() == len(PRO_PLUS_POSITIONS) + 1
