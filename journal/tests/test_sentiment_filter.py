import hashlib
import re
from datetime import datetime, timedelta, timezone as dt_tz
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from journal.tests.conftest import make_label, make_order
from journal.tests.test_contract import point_stats
from raxx.tests.helpers import sent_statements

URL = "/api/backtest/sentiment-filter"
NOTE = "private-note-text-4471"


@pytest.fixture
def book(customer, other_customer):
    """Five of my labelled trades (+100, -50, +20, open, -30) and one of another customer's."""
    specs = [("Bullish", "FollowedPlan", "110", "momentum"), ("Bullish", "OverrodeRule", "95", "momentum"),
             ("Bearish", "FollowedPlan", "102", "mean_reversion"), ("Bullish", None, None, "momentum"),
             ("Neutral", "UnexpectedOutcome", "97", None)]
    base = timezone.now() - timedelta(days=10)
    labels = []
    for i, (pre, post, exit_price, strategy) in enumerate(specs):
        order = make_order(customer, quantity="10", entry="100", exit=exit_price, strategy_type=strategy,
                           opened_at=base + timedelta(days=i))
        labels.append(make_label(customer, order, pre=pre, post=post, note=NOTE if i == 0 else None))
    make_label(other_customer, make_order(other_customer, exit="1000"), pre="Bullish")
    return labels


def test_stats_and_baseline_cover_only_my_trades(api, book, journal_on):
    body = api.get(URL).json()
    assert body["sample"] == {"n": 5, "sample_too_small": True}
    assert point_stats(body["stats"]) == point_stats(body["baseline"]) == {
        "n": 5, "closed": 4, "wins": 2, "losses": 2, "win_rate": 0.5, "total_pnl": "40.00", "avg_pnl": "10.00",
        "avg_win": "60.00", "avg_loss": "-40.00", "profit_factor": 1.5}
    assert body["generated_at"].endswith("Z")
    assert body["filters"]["source_table"] == "paper_orders"


def test_filter_by_pre_label_keeps_the_unfiltered_baseline(api, book, journal_on):
    body = api.get(URL, {"pre_label": "Bullish"}).json()
    assert body["filters"]["pre_label"] == "Bullish"
    assert point_stats(body["stats"]) == {"n": 3, "closed": 2, "wins": 1, "losses": 1, "win_rate": 0.5, "total_pnl": "50.00",
                             "avg_pnl": "25.00", "avg_win": "100.00", "avg_loss": "-50.00", "profit_factor": 2.0}
    assert body["baseline"]["n"] == 5
    assert {t["pre_label"] for t in body["trades"]} == {"Bullish"}


def test_filters_combine(api, book, journal_on):
    body = api.get(URL, {"post_label": "FollowedPlan", "strategy_type": "momentum"}).json()
    assert body["stats"]["n"] == 1 and body["stats"]["losses"] == 0 and body["stats"]["profit_factor"] is None
    assert point_stats(api.get(URL, {"taxonomy_version": 2}).json()["stats"]) == {
        "n": 0, "closed": 0, "wins": 0, "losses": 0, "win_rate": None, "total_pnl": "0.00", "avg_pnl": None,
        "avg_win": None, "avg_loss": None, "profit_factor": None}


def test_date_filter_is_on_the_trade_close_date(api, customer, journal_on):
    order = make_order(customer, exit="101")
    order.closed_at = datetime(2026, 3, 10, 23, 59, tzinfo=dt_tz.utc)
    order.save()
    make_label(customer, order)
    assert api.get(URL, {"date_from": "2026-03-10", "date_to": "2026-03-10"}).json()["sample"]["n"] == 1
    assert api.get(URL, {"date_from": "2026-03-11"}).json()["sample"]["n"] == 0
    assert api.get(URL, {"date_to": "2026-03-09"}).json()["sample"]["n"] == 0


def test_trades_are_newest_first_paged_and_carry_no_note_text(api, book, journal_on):
    body = api.get(URL, {"limit": 2, "offset": 1}).json()
    ids = [t["trade_id"] for t in body["trades"]]
    assert ids == [book[3].trade_id, book[2].trade_id]
    assert body["stats"]["n"] == 5  # stats cover the whole filtered set, not the page
    everything = api.get(URL).json()
    assert [t["trade_id"] for t in everything["trades"]] == [label.trade_id for label in reversed(book)]
    first = everything["trades"][-1]
    assert first["journal_note_present"] is True and first["realized_pnl"] == "100.00"
    assert set(first) == {"trade_id", "symbol", "side", "strategy_type", "opened_at", "closed_at", "realized_pnl",
                          "pre_label", "post_label", "journal_note_present", "summary"}
    assert NOTE not in api.get(URL).content.decode()


def test_sample_too_small_flips_at_ten(api, customer, journal_on):
    for _ in range(10):
        make_label(customer, make_order(customer, exit="101"))
    assert api.get(URL).json()["sample"] == {"n": 10, "sample_too_small": False}


def test_summaries_are_past_tense(api, book, journal_on):
    for trade in api.get(URL).json()["trades"]:
        summary = trade["summary"]
        assert re.match(r"^(Bought|Sold) ", summary)
        assert "recorded as" in summary
        assert not re.search(r"\b(will|would|tend|expect|likely|should|going to)\b", summary, re.I)


@pytest.mark.parametrize("params,field", [
    ({"pre_label": "Greedy"}, "pre_label"), ({"post_label": "Panicked"}, "post_label"),
    ({"source_table": "live"}, "source_table"), ({"date_from": "2026-13-01"}, "date_from"),
    ({"date_to": "yesterday"}, "date_to"), ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to"),
    ({"taxonomy_version": "one"}, "taxonomy_version"), ({"taxonomy_version": "0"}, "taxonomy_version"),
    ({"limit": "0"}, "limit"), ({"offset": "-1"}, "offset"), ({"strategy_type": "x" * 65}, "strategy_type"),
])
def test_bad_filter_values_are_400_with_field_detail(api, journal_on, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request" and field in response.json()["detail"]


@pytest.mark.parametrize("rows", [1, 60])
def test_filter_query_count_does_not_grow(api, customer, journal_on, django_assert_max_num_queries, rows):
    for i in range(rows):
        make_label(customer, make_order(customer, exit=str(90 + i % 20)), pre="Bullish")
    api.get(URL, {"pre_label": "Bullish"})  # the caller's row and the flag state are cached now
    # PostgreSQL sends both statements as one query (journal.selectors._pg_filter_rows)
    with django_assert_max_num_queries(1 if connection.vendor == "postgresql" else 2), \
            CaptureQueriesContext(connection) as queries:
        body = api.get(URL, {"pre_label": "Bullish"}).json()
    assert body["stats"]["n"] == rows
    assert len(filter_statements(queries)) == 2  # the grouped counts and sums, the page: nothing else


def filter_statements(queries) -> list[str]:
    """The statements sent (a query may carry several) that read the journal's tables."""
    return [sql for q in queries.captured_queries for sql, _ in sent_statements(q["sql"])
            if "trade_sentiment_labels" in sql]


def test_money_is_rounded_to_cents(api, customer, journal_on):
    make_label(customer, make_order(customer, quantity="3", entry="10", exit="10.3333"))
    stats = api.get(URL).json()["stats"]
    assert stats["total_pnl"] == "1.00" and stats["avg_win"] == "1.00"
    assert Decimal(stats["total_pnl"]) == Decimal("1.00")


# --- The body, byte for byte: what a client receives for one fixed book (pinned before the filter was
# made faster, so a faster query or formatter that changes one character of the answer fails here). ---
PINNED_QUERIES = [{}, {"pre_label": "Bullish"}, {"post_label": "FollowedPlan", "strategy_type": "momentum"},
                  {"date_from": "2026-03-03", "date_to": "2026-03-05", "limit": 3, "offset": 2},
                  {"limit": 1, "offset": 40}, {"taxonomy_version": 1, "pre_label": "Neutral", "limit": 500}]
PINNED_SHA256 = "c7873f979be58850dba723a9a0db09bc009cdee487ac9dd546d3bd6d217590a7"  # the same on SQLite


def pinned_book(customer) -> dict[int, int]:
    """36 trades with fixed times and awkward values (ties on opened_at, fractional quantities,
    a zero P&L, half-cent P&Ls, open trades, empty and real notes); returns trade id → ordinal."""
    from journal.models import PaperOrder

    base = datetime(2026, 3, 1, 9, 30, tzinfo=dt_tz.utc)
    pre = ("Bullish", "Bearish", "Neutral", "HighUncertainty")
    post = ("FollowedPlan", None, "OverrodeRule", "HeldThroughPressure", "AdjustedWithReason", "UnexpectedOutcome")
    ordinals = {}
    for i in range(36):
        side = "buy" if i % 3 else "sell"
        quantity, entry = Decimal("1.5") + Decimal(i) / 7, Decimal("100.125") + i
        order = PaperOrder(customer=customer, symbol=("AAPL", "MSFT", "BRK.B")[i % 3], side=side,
                           quantity=quantity.quantize(Decimal("0.000001")), entry_price=entry,
                           strategy_type=("momentum", "breakout", None, "momentum")[i % 4],
                           opened_at=base + timedelta(hours=5 * (i // 2)))  # pairs share an opened_at
        if i % 5 != 4:
            order.exit_price = entry if i == 6 else entry + Decimal(i % 9 - 4) * Decimal("1.333") + Decimal("0.005")
            move = order.exit_price - order.entry_price
            order.realized_pnl = (move if side == "buy" else -move) * order.quantity
            order.status, order.closed_at = "closed", order.opened_at + timedelta(minutes=37 * (i + 1))
        order.save()
        make_label(customer, order, pre=pre[i % 4], post=post[i % 6] if order.closed_at else None,
                   note=("", "kept my stop", None)[i % 3])
        ordinals[order.id] = i
    return ordinals


def pinned_bodies(api, ordinals: dict[int, int]) -> bytes:
    bodies = []
    for params in PINNED_QUERIES:
        response = api.get(URL, params)
        assert response.status_code == 200
        content = re.sub(rb'"generated_at":"[^"]+"', b'"generated_at":"-"', response.content)
        bodies.append(re.sub(rb'"trade_id":(\d+)', lambda m: b'"trade_id":#%d' % ordinals[int(m.group(1))], content))
    return b"\n".join(bodies)


def test_the_body_is_byte_for_byte_the_pinned_one(api, customer, other_customer, journal_on):
    ordinals = pinned_book(customer)
    pinned_book(other_customer)  # the same book for someone else: invisible here
    bodies = pinned_bodies(api, ordinals)
    assert b'"trade_id":#35' in bodies and b'"sample":{"n":36,"sample_too_small":false}' in bodies
    assert hashlib.sha256(bodies).hexdigest() == PINNED_SHA256, bodies.decode()[:2000]
