"""GET /api/journal/insights (CONTRACTS §12) and the intervals in the filter's STATS."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from journal.models import PaperOrder, TradeSentimentLabel
from journal.tests.conftest import make_label, make_order
from wcb.models import ClosedPosition, WcbSnapshot

URL = "/api/journal/insights"
WCB = "FLAG_WCB_ENABLED"
FILTER = "/api/backtest/sentiment-filter"


def closed_on(order, day: datetime):
    order.closed_at = day
    order.save(update_fields=["closed_at"])
    return order


def snapshot_for(order, *, would: str, finalized: bool = True, user_id=None) -> WcbSnapshot:
    """The What Could've Been snapshot of a closed paper order, finalized with ``would``."""
    position = ClosedPosition.objects.create(
        customer=order.customer, symbol=order.symbol, quantity=order.quantity, cost_basis=order.entry_price,
        close_price=order.exit_price, closed_at=order.closed_at)
    order.closed_position = position
    order.save(update_fields=["closed_position"])
    actual = order.realized_pnl
    return WcbSnapshot.objects.create(
        position=position, user_id=user_id or order.customer_id, symbol=order.symbol,
        tracking_horizon="close_of_market_only", close_timestamp_utc=order.closed_at,
        close_price=order.exit_price, cost_basis=order.entry_price, position_size_signed=order.quantity,
        horizon_reached=finalized, actual_pnl=actual if finalized else None,
        would_have_pnl=Decimal(would) if finalized else None,
        delta_pnl=Decimal(would) - actual if finalized else None)


@pytest.fixture
def book(customer, other_customer):
    """My trades: Bullish/FollowedPlan +100 and +20 (day 1, 2), Bullish/OverrodeRule -50 (day 2),
    Bearish/OverrodeRule -30 (day 3), Bullish/— open. Another customer's Bullish/FollowedPlan +1000."""
    day = datetime(2026, 4, 6, 20, 0, tzinfo=UTC)
    specs = [("Bullish", "FollowedPlan", "110", 0, "momentum"), ("Bullish", "FollowedPlan", "102", 1, "momentum"),
             ("Bullish", "OverrodeRule", "95", 1, "momentum"), ("Bearish", "OverrodeRule", "97", 2, None)]
    orders = {}
    for pre, post, exit_price, offset, strategy in specs:
        order = closed_on(make_order(customer, entry="100", exit=exit_price, strategy_type=strategy),
                          day + timedelta(days=offset))
        make_label(customer, order, pre=pre, post=post, note="private-note-8812")
        orders[(pre, post, exit_price)] = order
    make_label(customer, make_order(customer, strategy_type="momentum"), pre="Bullish")
    theirs = closed_on(make_order(other_customer, entry="100", exit="200"), day)
    make_label(other_customer, theirs, pre="Bullish", post="FollowedPlan")
    snapshot_for(theirs, would="5000")
    return orders


def test_matrix_has_a_row_per_pair_with_trades_mine_only(api, book, journal_on):
    response = api.get(URL)
    assert response.status_code == 200
    matrix = response.json()["matrix"]
    assert [(r["pre_label"], r["post_label"]) for r in matrix] == [
        ("Bullish", "FollowedPlan"), ("Bullish", "OverrodeRule"), ("Bullish", None), ("Bearish", "OverrodeRule")]
    followed = matrix[0]
    assert followed == {"pre_label": "Bullish", "post_label": "FollowedPlan", "n": 2, "closed": 2, "wins": 2,
                        "win_rate": 1.0, "win_rate_ci": [pytest.approx(2 / (2 + 1.959964 ** 2), abs=1e-6), 1.0],
                        "total_pnl": "120.00"}
    assert matrix[2] == {"pre_label": "Bullish", "post_label": None, "n": 1, "closed": 0, "wins": 0,
                         "win_rate": None, "win_rate_ci": None, "total_pnl": "0.00"}


def test_equity_curve_is_cumulative_per_close_day(api, book, journal_on):
    assert api.get(URL).json()["equity_curve"] == [
        ["2026-04-06", "100.00"], ["2026-04-07", "70.00"], ["2026-04-08", "40.00"]]


def test_held_sums_finalized_snapshots_per_post_label(api, book, journal_on, flags):
    flags.on(WCB)
    snapshot_for(book[("Bullish", "FollowedPlan", "110")], would="150")
    snapshot_for(book[("Bullish", "OverrodeRule", "95")], would="-10")
    snapshot_for(book[("Bearish", "OverrodeRule", "97")], would="20")
    snapshot_for(book[("Bullish", "FollowedPlan", "102")], would="999", finalized=False)  # pending: not counted
    held = api.get(URL).json()["held"]
    assert held == [
        {"post_label": "FollowedPlan", "n": 1, "actual_pnl": "100.00", "would_have_pnl": "150.00",
         "delta_pnl": "50.00"},
        {"post_label": "OverrodeRule", "n": 2, "actual_pnl": "-80.00", "would_have_pnl": "10.00",
         "delta_pnl": "90.00"}]


def test_held_never_counts_a_snapshot_recorded_for_someone_else(api, book, journal_on, flags, other_customer):
    flags.on(WCB)
    snapshot_for(book[("Bullish", "FollowedPlan", "110")], would="150", user_id=other_customer.pk)
    assert api.get(URL).json()["held"] == []


@pytest.mark.parametrize("tier", ["free", None])
def test_held_is_null_without_a_paid_tier(api_for, customer, book, journal_on, flags, tier):
    flags.on(WCB)
    body = api_for(customer, tier=tier).get(URL).json()
    assert body["held"] is None and len(body["matrix"]) == 4


def test_held_is_null_while_the_wcb_flag_is_off(api, book, journal_on):
    assert api.get(URL).json()["held"] is None


def test_empty_cases(api_for, customer, journal_on, flags):
    flags.on(WCB)
    body = api_for(customer).get(URL).json()
    assert (body["matrix"], body["held"], body["equity_curve"]) == ([], [], [])
    assert body["generated_at"].endswith("Z")
    make_label(customer, make_order(customer), pre="Neutral")  # open trades only: no curve, no held
    body = api_for(customer).get(URL).json()
    assert body["matrix"][0]["closed"] == 0 and body["equity_curve"] == [] and body["held"] == []


def test_filters_strategy_and_close_dates(api, book, journal_on):
    body = api.get(URL, {"strategy_type": "momentum", "date_from": "2026-04-07", "date_to": "2026-04-07"}).json()
    assert [(r["pre_label"], r["post_label"], r["n"]) for r in body["matrix"]] == [
        ("Bullish", "FollowedPlan", 1), ("Bullish", "OverrodeRule", 1)]
    assert body["equity_curve"] == [["2026-04-07", "-30.00"]]


@pytest.mark.parametrize("params", [{"date_from": "2026-05-01", "date_to": "2026-04-01"}, {"date_from": "04/01/2026"},
                                    {"strategy_type": "x" * 65}])
def test_bad_filters_are_400(api, journal_on, params):
    response = api.get(URL, params)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_404_while_the_journal_flag_is_off(api, book):
    response = api.get(URL)
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_no_note_text_and_past_tense_only(api, book, journal_on, flags):
    flags.on(WCB)
    text = api.get(URL).content.decode()
    assert "private-note-8812" not in text


def _bulk_book(customer, count: int):
    day = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)
    orders = PaperOrder.objects.bulk_create(
        PaperOrder(customer=customer, symbol="AAPL", side="buy", quantity=Decimal(1), entry_price=Decimal(100),
                   exit_price=Decimal(100 + (i % 7) - 3), realized_pnl=Decimal((i % 7) - 3), status="closed",
                   opened_at=day, closed_at=day + timedelta(days=i % 200)) for i in range(count))
    TradeSentimentLabel.objects.bulk_create(
        TradeSentimentLabel(customer=customer, trade=o, pre_label=("Bullish", "Bearish")[i % 2],
                            post_label=(None, "FollowedPlan", "OverrodeRule")[i % 3], pre_label_recorded_at=day,
                            created_at=day, updated_at=day) for i, o in enumerate(orders))


@pytest.mark.parametrize("count", [10, 10_000])
def test_query_count_does_not_grow_with_trades(api, customer, journal_on, flags, count):
    flags.on(WCB)
    _bulk_book(customer, count)
    api.get(URL)  # warm the flag cache
    with CaptureQueriesContext(connection) as queries:
        body = api.get(URL).json()
    assert sum(r["n"] for r in body["matrix"]) == count
    assert len(queries) <= 5, [q["sql"] for q in queries]


def test_filter_stats_carry_intervals_from_the_same_aggregate(api, customer, journal_on):
    for exit_price in ("110", "95", "102", "97"):  # P&L 100, -50, 20, -30
        make_label(customer, make_order(customer, entry="100", exit=exit_price), pre="Bullish")
    stats = api.get(FILTER).json()["stats"]
    assert stats["win_rate_ci"] == [pytest.approx(0.150039, abs=1e-6), pytest.approx(0.849961, abs=1e-6)]
    assert stats["avg_pnl_ci"] == ["-96.35", "116.35"]


def test_filter_intervals_are_null_on_too_few_trades(api, customer, journal_on):
    empty = api.get(FILTER).json()["stats"]
    assert empty["win_rate_ci"] is None and empty["avg_pnl_ci"] is None
    make_label(customer, make_order(customer, entry="100", exit="101"), pre="Bullish")
    one = api.get(FILTER).json()["stats"]
    assert one["win_rate_ci"] == [pytest.approx(1 / (1 + 1.959964 ** 2), abs=1e-6), 1.0] and one["avg_pnl_ci"] is None
