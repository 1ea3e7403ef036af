"""Journal insights: the API for a customer with 10,000 labelled trades (each closed one with a
finalized What Could've Been snapshot) vs the same three grouped statements in raw SQL."""

import uuid
from datetime import timedelta
from decimal import Decimal

from bench import harness
from bench.bench_journal import TRADES, _interleaved, _seed

TITLE = "journal: GET /api/journal/insights, 10,000 labelled trades with finalized snapshots"

RAW = [
    """SELECT l.pre_label, l.post_label, count(*), count(o.realized_pnl), count(*) FILTER (WHERE o.realized_pnl > 0),
              coalesce(sum(o.realized_pnl), 0)
       FROM trade_sentiment_labels l JOIN paper_orders o ON o.id = l.trade_id
       WHERE l.user_id = %s AND l.source_table = 'paper_orders' GROUP BY 1, 2""",
    """SELECT l.post_label, count(*), sum(s.actual_pnl), sum(s.would_have_pnl), sum(s.delta_pnl)
       FROM trade_sentiment_labels l JOIN paper_orders o ON o.id = l.trade_id
       JOIN closed_position_wcb_snapshots s ON s.position_id = o.closed_position_id
       WHERE l.user_id = %s AND l.source_table = 'paper_orders' AND s.horizon_reached
         AND s.would_have_pnl IS NOT NULL AND s.user_id = %s GROUP BY 1""",
    """SELECT (o.closed_at AT TIME ZONE 'UTC')::date, sum(o.realized_pnl)
       FROM trade_sentiment_labels l JOIN paper_orders o ON o.id = l.trade_id
       WHERE l.user_id = %s AND l.source_table = 'paper_orders' AND o.realized_pnl IS NOT NULL
       GROUP BY 1 ORDER BY 1""",
]


def _finalize_snapshots(customer) -> None:
    """A finalized snapshot for every closed paper order, as the WCB jobs would leave them."""
    from journal.models import PaperOrder
    from wcb.models import ClosedPosition, WcbSnapshot

    closed = list(PaperOrder.objects.filter(customer=customer, status="closed"))
    positions = [ClosedPosition(id=uuid.uuid4(), customer=customer, symbol=o.symbol, quantity=o.quantity,
                                cost_basis=o.entry_price, close_price=o.exit_price, closed_at=o.closed_at)
                 for o in closed]
    ClosedPosition.objects.bulk_create(positions, batch_size=2000)
    WcbSnapshot.objects.bulk_create([
        WcbSnapshot(position=p, user_id=customer.pk, symbol=p.symbol, tracking_horizon="close_of_market_only",
                    close_timestamp_utc=p.closed_at, close_price=p.close_price, cost_basis=p.cost_basis,
                    position_size_signed=p.quantity, horizon_reached=True, actual_pnl=o.realized_pnl,
                    would_have_pnl=o.realized_pnl + Decimal("1.5"), delta_pnl=Decimal("1.5"),
                    horizon_timestamp_utc=p.closed_at + timedelta(hours=1))
        for o, p in zip(closed, positions)], batch_size=2000)
    for order, position in zip(closed, positions):
        order.closed_position_id = position.id
    PaperOrder.objects.bulk_update(closed, ["closed_position"], batch_size=2000)


def run() -> list[dict]:
    from django.db import connection
    from rest_framework.test import APIClient
    from waffle.models import Flag

    from conftest import token_for
    from raxx.models import Customer

    customer = Customer.objects.create(id=uuid.uuid4(), email="bench-insights@example.test")
    _seed(customer)
    _finalize_snapshots(customer)
    Flag.objects.filter(name__in=["FLAG_SENTIMENT_JOURNAL", "FLAG_WCB_ENABLED"]).update(everyone=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(customer, 'pro')}")

    def endpoint():
        response = client.get("/api/journal/insights")
        assert response.status_code == 200, response.content
        return response.json()

    def raw():
        with connection.cursor() as cursor:
            out = []
            for sql in RAW:
                cursor.execute(sql, [customer.id] * sql.count("%s"))
                out.append(cursor.fetchall())
            return out

    rows = [{"variant": "endpoint (DRF, auth, 2 flags)", "fn": endpoint, "queries": harness.count_queries(endpoint)}]
    if connection.vendor == "postgresql":  # the raw statements are PostgreSQL SQL
        matrix, held, curve = raw()
        body = endpoint()
        assert sum(r["n"] for r in body["matrix"]) == sum(r[2] for r in matrix) == TRADES
        assert len(body["equity_curve"]) == len(curve) and len(body["held"]) == len(held)
        rows.append({"variant": "raw SQL, 3 grouped statements", "fn": raw, "queries": 3})
    timings = _interleaved({r["variant"]: r["fn"] for r in rows}, rounds=30)
    base = timings[rows[-1]["variant"]]["median_us"]
    return [{"variant": r["variant"], "db": connection.vendor, "trades": TRADES, "queries": r["queries"],
             "median_ms": timings[r["variant"]]["median_us"] / 1000,
             "p95_ms": timings[r["variant"]]["p95_us"] / 1000,
             "ratio": timings[r["variant"]]["median_us"] / base} for r in rows]


def summary(rows: list[dict]) -> list[dict]:
    ours, raw = rows[0], rows[-1]
    return [harness.goal(f"journal: insights, {ours['trades']:,} trades", f"{ours['median_ms']:.1f} ms, "
                         f"{ours['queries']} queries", f"raw SQL {raw['median_ms']:.1f} ms", ours["ratio"], "", None)]

if __name__ == "__main__":
    harness.main(TITLE, run)
