"""Sentiment filter: the API vs the raw SQL computing the same answer, at 1k, 10k and 100k labelled
trades, and the 100k customer among 1,000,000 other customers' trades vs the same 100k alone.

Rows per size: the full endpoint (DRF, auth, flag, validation, the selector, rendering), the
selector alone, and the raw-SQL baseline with a plain cursor: the same STATS (filtered and
baseline, with the sums of squares the intervals need) and the same page of 100 trades (with
what the summaries are built from), hand-written as well as we know how. ``ratio`` is to the
raw SQL at the same size; ``others`` is how many other customers' trades share the tables.

On PostgreSQL the trades are written by ``INSERT … SELECT generate_series`` (seconds for a
million rows), other customers' trades interleaved in time with the measured ones as a live
table holds them, then ``VACUUM ANALYZE`` (what autovacuum does after a bulk insert). "The same
100k alone" is a copy of that customer's rows in tables of their own (schema ``bench_alone``,
put first on the ``search_path`` for its rounds), measured in the same interleaved rounds:
``vs_alone`` is the median among 1M over the median alone. On SQLite only the 1k and 10k sizes
run, written by the ORM.
"""

import random
import statistics
import time
import uuid
from datetime import timedelta
from decimal import Decimal

from bench import harness

TITLE = ("journal: GET /api/backtest/sentiment-filter?pre_label=Bullish, 1k / 10k / 100k labelled trades; "
         "100k among 1M other customers' trades vs alone")
TRADES = 10_000  # bench_insights' size
SIZES = (1_000, 10_000, 100_000)
OTHERS, OTHER_CUSTOMERS = 1_000_000, 1_000
ROUNDS = {1_000: 60, 10_000: 30, 100_000: 20}
ALONE = "bench_alone"
RAW = "raw SQL, same answer"

_W = "l.source_table = 'paper_orders' AND l.pre_label = 'Bullish'"
# The same answer as the endpoint's, written by hand as well as we know how: the counts and sums
# grouped by "matches the filter" (the baseline is both groups added up) ...
RAW_STATS = f"""
SELECT {_W}, count(*), count(o.realized_pnl), count(*) FILTER (WHERE o.realized_pnl > 0),
       count(*) FILTER (WHERE o.realized_pnl < 0), sum(o.realized_pnl), sum(o.realized_pnl * o.realized_pnl),
       sum(o.realized_pnl) FILTER (WHERE o.realized_pnl > 0), sum(o.realized_pnl) FILTER (WHERE o.realized_pnl < 0)
FROM trade_sentiment_labels l JOIN paper_orders o ON o.id = l.trade_id
WHERE l.user_id = %s AND o.user_id = %s
GROUP BY 1
"""

# ... and the page chosen from the covering indexes before its 100 rows are read.
_MINE = "trade_sentiment_labels l JOIN paper_orders o ON o.id = l.trade_id WHERE l.user_id = %s AND o.user_id = %s"
RAW_PAGE = f"""
SELECT l.trade_id, o.symbol, o.side, o.quantity, o.entry_price, o.exit_price, o.strategy_type, o.opened_at,
       o.closed_at, o.realized_pnl, l.pre_label, l.post_label, (l.journal_note IS NOT NULL AND l.journal_note <> '')
FROM {_MINE} AND {_W}
  AND l.trade_id IN (SELECT l.trade_id FROM {_MINE} AND {_W} ORDER BY o.opened_at DESC, l.trade_id DESC LIMIT 100)
ORDER BY o.opened_at DESC, l.trade_id DESC
"""


# One row per trade of every owner in bench_owners, interleaved in time across owners (ORDER BY
# opened_at: the heap holds them in that order, as a live table would). Values are hashes of
# (owner, trade number): the same data on every run.
SQL_ORDERS = """
INSERT INTO paper_orders (user_id, symbol, side, quantity, entry_price, exit_price, strategy_type, status,
                          opened_at, closed_at, realized_pnl)
SELECT user_id, symbol, side, quantity, entry, exit, strategy, CASE WHEN exit IS NULL THEN 'open' ELSE 'closed' END,
       opened_at, CASE WHEN exit IS NOT NULL THEN opened_at + interval '1 minute' END,
       (exit - entry) * quantity * CASE side WHEN 'buy' THEN 1 ELSE -1 END
FROM (
    SELECT b.user_id, t.opened_at, (ARRAY['AAPL', 'MSFT', 'SPY', 'NVDA'])[1 + h.h1 % 4] AS symbol,
           (ARRAY['buy', 'sell'])[1 + h.h2 % 2] AS side, (1 + h.h3 % 50)::numeric AS quantity,
           t.entry, CASE WHEN g % 10 <> 0 THEN t.entry + (h.h5 % 1601 - 800) / 100.0 END AS exit,
           (ARRAY['momentum', 'breakout', NULL])[1 + h.h6 % 3] AS strategy
    FROM bench_owners b CROSS JOIN LATERAL generate_series(0, b.n - 1) g
    CROSS JOIN LATERAL (SELECT b.k::bigint * 10000000 + g AS r) r
    CROSS JOIN LATERAL (SELECT hashint8(r.r * 8 + 1)::bigint + 2147483648 AS h1,
                               hashint8(r.r * 8 + 2)::bigint + 2147483648 AS h2,
                               hashint8(r.r * 8 + 3)::bigint + 2147483648 AS h3,
                               hashint8(r.r * 8 + 4)::bigint + 2147483648 AS h4,
                               hashint8(r.r * 8 + 5)::bigint + 2147483648 AS h5,
                               hashint8(r.r * 8 + 6)::bigint + 2147483648 AS h6) h
    CROSS JOIN LATERAL (SELECT (5000 + h.h4 % 15001) / 100.0 AS entry,
                               now() - interval '120 days' + (g + 0.5)::float8 * (interval '119 days' / b.n) AS opened_at) t
) s
ORDER BY opened_at
"""

SQL_LABELS = """
INSERT INTO trade_sentiment_labels (user_id, source_table, trade_id, pre_label, pre_label_recorded_at, post_label,
                                    journal_note, taxonomy_version, created_at, updated_at)
SELECT o.user_id, 'paper_orders', o.id,
       (ARRAY['Bullish', 'Bearish', 'Neutral', 'HighUncertainty'])[1 + (hashint8(o.id * 4 + 1)::bigint + 2147483648) % 4],
       o.opened_at,
       (ARRAY['FollowedPlan', 'HeldThroughPressure', 'AdjustedWithReason', 'OverrodeRule', 'UnexpectedOutcome',
              NULL])[1 + (hashint8(o.id * 4 + 2)::bigint + 2147483648) % 6],
       CASE WHEN (hashint8(o.id * 4 + 3)::bigint + 2147483648) % 5 = 0 THEN 'n' END, 1, now(), now()
FROM paper_orders o JOIN bench_owners b ON b.user_id = o.user_id
ORDER BY o.id
"""


def _seed(customer, trades: int = TRADES) -> None:
    """``trades`` labelled paper orders for ``customer`` through the ORM (any database)."""
    from django.db import connection
    from django.utils import timezone

    from journal.models import POST_LABELS, PRE_LABELS, PaperOrder, TradeSentimentLabel

    rng = random.Random(7)
    now = timezone.now()
    orders = []
    for i in range(trades):
        entry = Decimal(rng.randint(5000, 20000)) / 100
        exit_price = entry + Decimal(rng.randint(-800, 800)) / 100
        qty = Decimal(rng.randint(1, 50))
        closed = i % 10 != 0
        orders.append(PaperOrder(
            customer=customer, symbol=rng.choice(["AAPL", "MSFT", "SPY", "NVDA"]), side=rng.choice(["buy", "sell"]),
            quantity=qty, entry_price=entry, strategy_type=rng.choice(["momentum", "breakout", None]),
            opened_at=now - timedelta(minutes=trades - i),
            status="closed" if closed else "open", exit_price=exit_price if closed else None,
            closed_at=now - timedelta(minutes=trades - i - 1) if closed else None))
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
    if connection.vendor == "postgresql":  # fresh tables: give the planner real statistics, as autovacuum would
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE paper_orders")
            cursor.execute("ANALYZE trade_sentiment_labels")


def seed_sql(owners: list[tuple[str, int]]) -> None:
    """PostgreSQL: ``n`` labelled trades for each ``(customer id, n)``, in two set-based statements."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_owners (k int, user_id uuid, n int)")
        cursor.executemany("INSERT INTO bench_owners VALUES (%s, %s, %s)",
                           [(k, user_id, n) for k, (user_id, n) in enumerate(owners)])
        cursor.execute(SQL_ORDERS)
        cursor.execute(SQL_LABELS)
        cursor.execute("DROP TABLE bench_owners")
        for table in ("paper_orders", "trade_sentiment_labels"):
            # Indexes as compact as the alone copy's (built in key order): one set-based INSERT of 1.1M rows
            # splits the covering indexes' pages half full, which the alone copy never has; in production a
            # REINDEX CONCURRENTLY does the same after a bulk load.
            cursor.execute(f"REINDEX TABLE {table}")
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def copy_alone(customer_id) -> None:
    """The customer's rows, and only them, in tables of their own (same columns, constraints, indexes)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {ALONE}")
        for table in ("paper_orders", "trade_sentiment_labels"):
            cursor.execute(f"CREATE TABLE {ALONE}.{table} (LIKE public.{table} INCLUDING ALL)")
            cursor.execute(f"INSERT INTO {ALONE}.{table} SELECT * FROM public.{table} WHERE user_id = %s ORDER BY id",
                           [customer_id])
            cursor.execute(f"VACUUM (ANALYZE) {ALONE}.{table}")


def _search_path(alone: bool) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SET search_path = {ALONE}, public" if alone else "SET search_path = public")


def _interleaved(fns: dict, *, rounds: int, before: dict | None = None) -> dict:
    """Median/p95 per variant, the variants taking turns so machine load hits them alike.
    ``before[name]`` runs untimed ahead of each call of that variant."""
    before = before or {}
    samples = {name: [] for name in fns}
    for name, fn in fns.items():
        before.get(name, lambda: None)()
        fn()  # warm-up
    for _ in range(rounds):
        for name, fn in fns.items():
            before.get(name, lambda: None)()
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1e6)
    return {name: {"median_us": statistics.median(v), "p95_us": sorted(v)[max(int(len(v) * 0.95) - 1, 0)]}
            for name, v in samples.items()}


def _variants(customer, client):
    from django.db import connection

    from journal.selectors import SentimentFilter, sentiment_filter

    def endpoint():
        response = client.get("/api/backtest/sentiment-filter?pre_label=Bullish")
        assert response.status_code == 200, response.content
        return response

    def selector():
        return sentiment_filter(customer=customer, filters=SentimentFilter(pre_label="Bullish"))

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(RAW_STATS, [customer.id, customer.id])
            stats = cursor.fetchall()
            cursor.execute(RAW_PAGE, [customer.id] * 4)
            return stats, cursor.fetchall()

    return endpoint, selector, raw


def _same_answer(endpoint, raw, trades: int) -> int:
    body = endpoint().json()
    groups, page = raw()
    matched = next(g for g in groups if g[0])
    assert (body["stats"]["n"], body["stats"]["closed"], body["stats"]["wins"], body["stats"]["losses"]) == matched[1:5]
    assert body["stats"]["total_pnl"] == str(Decimal(matched[5]).quantize(Decimal("0.01")))
    assert body["baseline"]["n"] == sum(g[1] for g in groups) == trades
    assert [t["trade_id"] for t in body["trades"]] == [r[0] for r in page]
    return matched[1]


def run() -> list[dict]:
    from django.db import connection
    from rest_framework.test import APIClient
    from waffle.models import Flag

    from conftest import token_for
    from raxx.models import Customer

    postgres = connection.vendor == "postgresql"
    if postgres:  # one connection for the whole run: the search_path set for the "alone" rounds must hold
        connection.close()
        connection.settings_dict["CONN_MAX_AGE"] = None
    sizes = SIZES if postgres else SIZES[:2]
    customers = {n: Customer.objects.create(id=uuid.uuid4(), email=f"bench-{n}@example.test") for n in sizes}
    if postgres:
        others = Customer.objects.bulk_create(
            [Customer(id=uuid.uuid4(), email=f"other-{i}@example.test") for i in range(OTHER_CUSTOMERS)])
        started = time.monotonic()
        seed_sql([*((str(c.id), n) for n, c in customers.items()),
                  *((str(c.id), OTHERS // OTHER_CUSTOMERS) for c in others)])
        copy_alone(customers[SIZES[-1]].id)
        with connection.cursor() as cursor:  # the load's dirty pages written out now, not during the first rounds
            cursor.execute("CHECKPOINT")
        print(f"(seeded {sum(sizes) + OTHERS:,} labelled trades in {time.monotonic() - started:.0f} s)")
    else:
        for n, customer in customers.items():
            _seed(customer, n)
    Flag.objects.filter(name="FLAG_SENTIMENT_JOURNAL").update(everyone=True)

    rows = []
    for n, customer in customers.items():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(customer)}")
        endpoint, selector, raw = _variants(customer, client)
        filtered = _same_answer(endpoint, raw, n)
        alone = postgres and n == SIZES[-1]
        variants = {"endpoint": (endpoint, harness.count_queries(endpoint)),
                    "selector only": (selector, harness.count_queries(selector)),
                    RAW: (raw, 2)}
        before = {}
        if alone:
            _search_path(True)
            with connection.cursor() as cursor:  # the copy is what the statements read now
                cursor.execute("SELECT count(*) FROM paper_orders")
                assert cursor.fetchone()[0] == n
            assert _same_answer(endpoint, raw, n) == filtered
            variants |= {"endpoint (alone)": (endpoint, harness.count_queries(endpoint)),
                         f"{RAW} (alone)": (raw, 2)}
            before = {name: (lambda copy=name.endswith("(alone)"): _search_path(copy)) for name in variants}
            _search_path(False)
        timings = _interleaved({name: fn for name, (fn, _) in variants.items()}, rounds=ROUNDS[n], before=before)
        if postgres:
            _search_path(False)
        for name, (_, queries) in variants.items():
            copy = name.endswith(" (alone)")
            base = name.removesuffix(" (alone)")
            median = timings[name]["median_us"]
            rows.append({"variant": name, "db": connection.vendor, "trades": n,
                         "others": OTHERS if postgres and not copy else 0, "filtered_n": filtered,
                         "queries": queries, "median_ms": median / 1000, "p95_ms": timings[name]["p95_us"] / 1000,
                         "ratio": median / timings[f"{RAW} (alone)" if copy else RAW]["median_us"],
                         "vs_alone": (median / timings[f"{base} (alone)"]["median_us"]
                                      if alone and not copy and f"{base} (alone)" in timings else "")})
    return rows



def summary(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        if row["variant"] != "endpoint":
            continue
        raw = next(r for r in rows if r["trades"] == row["trades"] and r["variant"] == RAW)
        among = f" among {row['others']:,} others'" if row["others"] else ""
        out.append(harness.goal(f"journal: sentiment filter, {row['trades']:,} trades{among}",
                                f"{row['median_ms']:.1f} ms, {row['queries']} queries",
                                f"raw SQL {raw['median_ms']:.1f} ms", row["ratio"], "≤ 1.5× raw",
                                row["ratio"] <= 1.5))
        if row["vs_alone"] != "":
            alone = next(r for r in rows if r["trades"] == row["trades"] and r["variant"] == "endpoint (alone)")
            out.append(harness.goal(f"journal: the same {row['trades']:,} trades, among others' vs alone",
                                    f"{row['median_ms']:.1f} ms", f"alone {alone['median_ms']:.1f} ms",
                                    row["vs_alone"], "≤ 1.2×", row["vs_alone"] <= 1.2))
    return out

if __name__ == "__main__":
    harness.main(TITLE, run)
