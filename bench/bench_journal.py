"""Sentiment filter: the API for a customer with 10,000 labelled trades vs the raw SQL aggregate.

Rows: the full endpoint (DRF, auth, flag, validation, 2 queries), the selector alone,
and the raw-SQL baseline computing the same STATS (filtered + baseline in one
statement, plus the same page of 100 trades) with a plain cursor.
"""

import random
import uuid
from datetime import timedelta
from decimal import Decimal

from bench import harness

TITLE = "journal: GET /api/backtest/sentiment-filter, 10,000 labelled trades"
TRADES = 10_000

RAW_STATS = """
SELECT count(*) FILTER (WHERE {w}),
       count(o.realized_pnl) FILTER (WHERE {w}),
       count(*) FILTER (WHERE {w} AND o.realized_pnl > 0),
       count(*) FILTER (WHERE {w} AND o.realized_pnl < 0),
       coalesce(sum(o.realized_pnl) FILTER (WHERE {w}), 0),
       coalesce(sum(o.realized_pnl) FILTER (WHERE {w} AND o.realized_pnl > 0), 0),
       coalesce(sum(o.realized_pnl) FILTER (WHERE {w} AND o.realized_pnl < 0), 0),
       count(*), count(o.realized_pnl),
       count(*) FILTER (WHERE o.realized_pnl > 0), count(*) FILTER (WHERE o.realized_pnl < 0),
       coalesce(sum(o.realized_pnl), 0),
       coalesce(sum(o.realized_pnl) FILTER (WHERE o.realized_pnl > 0), 0),
       coalesce(sum(o.realized_pnl) FILTER (WHERE o.realized_pnl < 0), 0)
FROM trade_sentiment_labels l JOIN paper_orders o ON o.id = l.trade_id
WHERE l.user_id = %s
""".format(w="l.source_table = 'paper_orders' AND l.pre_label = 'Bullish'")

RAW_PAGE = """
SELECT l.trade_id, o.symbol, o.side, o.strategy_type, o.opened_at, o.closed_at, o.realized_pnl,
       l.pre_label, l.post_label, (l.journal_note IS NOT NULL AND l.journal_note <> '')
FROM trade_sentiment_labels l JOIN paper_orders o ON o.id = l.trade_id
WHERE l.user_id = %s AND l.source_table = 'paper_orders' AND l.pre_label = 'Bullish'
ORDER BY o.opened_at DESC, l.trade_id DESC LIMIT 100
"""


def _seed(customer) -> None:
    from django.utils import timezone

    from journal.models import POST_LABELS, PRE_LABELS, PaperOrder, TradeSentimentLabel

    rng = random.Random(7)
    now = timezone.now()
    orders = []
    for i in range(TRADES):
        entry = Decimal(rng.randint(5000, 20000)) / 100
        exit_price = entry + Decimal(rng.randint(-800, 800)) / 100
        qty = Decimal(rng.randint(1, 50))
        closed = i % 10 != 0
        orders.append(PaperOrder(
            customer=customer, symbol=rng.choice(["AAPL", "MSFT", "SPY", "NVDA"]), side=rng.choice(["buy", "sell"]),
            quantity=qty, entry_price=entry, strategy_type=rng.choice(["momentum", "breakout", None]),
            opened_at=now - timedelta(minutes=TRADES - i),
            status="closed" if closed else "open", exit_price=exit_price if closed else None,
            closed_at=now - timedelta(minutes=TRADES - i - 1) if closed else None))
    for order in orders:
        if order.status == "closed":
            move = order.exit_price - order.entry_price
            order.realized_pnl = move * order.quantity if order.side == "buy" else -move * order.quantity
    PaperOrder.objects.bulk_create(orders, batch_size=2000)
    TradeSentimentLabel.objects.bulk_create([
        TradeSentimentLabel(customer=customer, trade=o, pre_label=rng.choice(PRE_LABELS),
                            pre_label_recorded_at=o.opened_at, post_label=rng.choice([*POST_LABELS, None]),
                            journal_note="n" if rng.random() < 0.2 else None, created_at=now, updated_at=now)
        for o in orders], batch_size=2000)
    from django.db import connection

    if connection.vendor == "postgresql":  # fresh tables: give the planner real statistics, as autovacuum would
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE paper_orders")
            cursor.execute("ANALYZE trade_sentiment_labels")


def _interleaved(fns: dict, *, rounds: int) -> dict:
    """Median/p95 per variant, the variants taking turns so machine load hits them alike."""
    import statistics
    import time

    samples = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1e6)
    return {name: {"median_us": statistics.median(v), "p95_us": sorted(v)[int(len(v) * 0.95) - 1]}
            for name, v in samples.items()}


def run() -> list[dict]:
    from django.db import connection
    from rest_framework.test import APIClient
    from waffle.models import Flag

    from conftest import token_for
    from journal.selectors import SentimentFilter, sentiment_filter
    from raxx.models import Customer

    customer = Customer.objects.create(id=uuid.uuid4(), email="bench@example.test")
    _seed(customer)
    Flag.objects.filter(name="FLAG_SENTIMENT_JOURNAL").update(everyone=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(customer)}")
    url = "/api/backtest/sentiment-filter?pre_label=Bullish"

    def endpoint():
        response = client.get(url)
        assert response.status_code == 200, response.content
        return response

    def selector():
        return sentiment_filter(customer=customer, filters=SentimentFilter(pre_label="Bullish"))

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(RAW_STATS, [customer.id])
            stats = cursor.fetchone()
            cursor.execute(RAW_PAGE, [customer.id])
            return stats, cursor.fetchall()

    body = endpoint().json()
    stats, page = raw()
    assert (body["stats"]["n"], body["stats"]["closed"], body["stats"]["wins"], body["stats"]["losses"]) == stats[:4]
    assert body["stats"]["total_pnl"] == str(Decimal(stats[4]).quantize(Decimal("0.01")))
    assert body["baseline"]["n"] == stats[7] == TRADES
    assert [t["trade_id"] for t in body["trades"]] == [r[0] for r in page]

    results = {"endpoint (DRF, auth, flag)": (endpoint, harness.count_queries(endpoint)),
               "selector only": (selector, harness.count_queries(selector)),
               "raw SQL aggregate + page": (raw, 2)}
    timings = _interleaved({name: fn for name, (fn, _) in results.items()}, rounds=30)
    base = timings["raw SQL aggregate + page"]["median_us"]
    return [{"variant": name, "db": connection.vendor, "trades": TRADES, "filtered_n": stats[0],
             "queries": queries, "median_ms": timings[name]["median_us"] / 1000,
             "p95_ms": timings[name]["p95_us"] / 1000, "ratio": timings[name]["median_us"] / base}
            for name, (_, queries) in results.items()]


if __name__ == "__main__":
    harness.main(TITLE, run)
