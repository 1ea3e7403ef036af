"""The journal's whole-book reads stay linear when statistics lag behind a customer's trades
(PostgreSQL).

The planner sizes a customer's book from the last ANALYZE. A customer who had no trades then
and has 1,500 now is planned as a handful, and a nested loop re-reading their orders for each
of their labels costs n²: 1,500 trades were over a million rows compared per statement, 20,000
trades 14 s a request. Each statement a route runs is EXPLAIN ANALYZEd exactly as the route sent
it (planner settings included) in that state; no plan node may touch more rows than a small
multiple of the customer's trades.
"""

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from journal.models import PaperOrder, TradeSentimentLabel
from journal.selectors import label_matrix
from raxx.models import Customer
from raxx.sql import without_nested_loops
from raxx.tests.helpers import sent_statements

pytestmark = pytest.mark.postgres_only
TRADES, OTHERS = 1_500, 1_000


def book(customers, trades: int) -> None:
    now = timezone.now()
    orders = PaperOrder.objects.bulk_create([
        PaperOrder(customer=c, symbol="AAPL", side="buy", quantity=Decimal(1), entry_price=Decimal(100),
                   exit_price=Decimal(100 + i % 7 - 3), realized_pnl=Decimal(i % 7 - 3), status="closed",
                   strategy_type=("momentum", None)[i % 2], opened_at=now - timedelta(minutes=i + 1),
                   closed_at=now - timedelta(minutes=i))
        for c in customers for i in range(trades)])
    TradeSentimentLabel.objects.bulk_create([
        TradeSentimentLabel(customer=o.customer, trade=o, pre_label=("Bullish", "Bearish")[o.pk % 2],
                            pre_label_recorded_at=o.opened_at, post_label=("FollowedPlan", None)[o.pk % 3 == 0],
                            created_at=now, updated_at=now)
        for o in orders])


@pytest.fixture
def lagging_statistics(customer):
    """Others' small books analysed; then the customer's big one, not yet."""
    others = Customer.objects.bulk_create(
        [Customer(id=uuid.uuid4(), email=f"small-{i}@example.test") for i in range(OTHERS)])
    book(others, 3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE paper_orders")
        cursor.execute("ANALYZE trade_sentiment_labels")
    book([customer], TRADES)


def rows_touched(sql: str) -> list[tuple[int, str]]:
    """EXPLAIN ANALYZE of each statement as it was sent: (rows in and out of a node, the node)."""
    found = []
    for statement, no_nested_loops in sent_statements(sql):
        explain = f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}"
        with connection.cursor() as cursor:
            cursor.execute(without_nested_loops(explain) if no_nested_loops else explain)
            if no_nested_loops:
                cursor.nextset()
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        stack = [plan[0]["Plan"]]
        while stack:
            node = stack.pop()
            per_loop = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
                        + node.get("Rows Removed by Join Filter", 0))
            found.append((per_loop * node["Actual Loops"], f'{node["Node Type"]} in {statement[:80]}'))
            stack.extend(node.get("Plans", []))
    return found


def assert_linear(queries) -> None:
    touched = [t for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("SET", "SELECT"))
               for t in rows_touched(q["sql"])]
    assert touched
    worst = max(touched)
    assert worst[0] <= 5 * TRADES, worst


@pytest.mark.parametrize("query", [{}, {"pre_label": "Bullish"}, {"strategy_type": "momentum", "offset": 700},
                                   {"post_label": "FollowedPlan", "date_from": "2020-01-01"}])
def test_the_filter_stays_linear_while_statistics_lag(api, journal_on, lagging_statistics, query):
    with CaptureQueriesContext(connection) as queries:
        body = api.get("/api/backtest/sentiment-filter", query).json()
    assert body["baseline"]["n"] == TRADES and body["trades"]
    assert_linear(queries)


def test_insights_and_the_console_heat_map_stay_linear_while_statistics_lag(api, journal_on, lagging_statistics,
                                                                           customer):
    journal_on.on("FLAG_WCB_ENABLED")
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/journal/insights").status_code == 200
        assert sum(cell["n"] for cell in label_matrix(customer=customer)) == TRADES
    assert_linear(queries)


def test_the_filter_reads_the_same_page_with_statistics_current(api, journal_on, lagging_statistics):
    lagging = api.get("/api/backtest/sentiment-filter", {"pre_label": "Bearish", "offset": 50}).json()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE paper_orders")
        cursor.execute("ANALYZE trade_sentiment_labels")
    current = api.get("/api/backtest/sentiment-filter", {"pre_label": "Bearish", "offset": 50}).json()
    assert [t["trade_id"] for t in current["trades"]] == [t["trade_id"] for t in lagging["trades"]]
    assert current["stats"] == lagging["stats"] and len(current["trades"]) == 100
