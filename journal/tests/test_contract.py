"""Black-box acceptance tests for CONTRACTS §0–§3 (journal), written the way an outside
tester would: HTTP only, tokens from ``api_for``, flags from ``flags``. The one exception is
``_age_close`` which moves a trade's close into the past (the HTTP API cannot travel in time).
"""

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

ORDERS = "/api/paper-orders"
LABELS = "/api/sentiment-labels"
TAXONOMY = "/api/sentiment-labels/taxonomy"
FILTER = "/api/backtest/sentiment-filter"
FLAG = "FLAG_SENTIMENT_JOURNAL"

LABEL_CREATE_KEYS = {"id", "trade_id", "pre_label", "pre_label_recorded_at", "post_label", "post_label_locked_at",
                     "journal_note_present", "taxonomy_version", "created_at"}
LABEL_DETAIL_KEYS = {"id", "trade_id", "source_table", "pre_label", "pre_label_recorded_at", "post_label",
                     "post_label_recorded_at", "post_label_locked_at", "journal_note", "taxonomy_version",
                     "created_at", "updated_at"}
STATS_KEYS = {"n", "closed", "wins", "losses", "win_rate", "win_rate_ci", "total_pnl", "avg_pnl", "avg_pnl_ci",
              "avg_win", "avg_loss", "profit_factor"}


def point_stats(stats: dict) -> dict:
    """STATS without the §12 intervals (asserted in test_insights.py)."""
    assert set(stats) == STATS_KEYS
    return {key: value for key, value in stats.items() if not key.endswith("_ci")}
TRADE_KEYS = {"trade_id", "symbol", "side", "strategy_type", "opened_at", "closed_at", "realized_pnl", "pre_label",
              "post_label", "journal_note_present", "summary"}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
MONEY_CENTS = re.compile(r"^-?\d+\.\d\d$")


@pytest.fixture
def me(api_for, customer):
    return api_for(customer, "pro_plus")


@pytest.fixture
def them(api_for, other_customer):
    return api_for(other_customer, "pro_plus")


@pytest.fixture
def on(flags):
    flags.on(FLAG)
    return flags


def _open(client, *, pre_label="Bullish", **fields) -> dict:
    body = {"symbol": "AAPL", "side": "buy", "quantity": "10", "entry_price": "100", **fields}
    if pre_label is not None:
        body["pre_label"] = pre_label
    response = client.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _close(client, order_id, exit_price) -> dict:
    response = client.post(f"{ORDERS}/{order_id}/close", {"exit_price": exit_price}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["order"]


def _trade(client, *, exit_price=None, **fields) -> tuple[dict, dict | None]:
    """Open (and optionally close) an order; returns (order, label) as the API showed them."""
    body = _open(client, **fields)
    order = body["order"]
    if exit_price is not None:
        order = _close(client, order["id"], exit_price)
    return order, body["sentiment_label"]


def _age_close(order_id, *, hours=0, at=None):
    from journal.models import PaperOrder

    closed_at = at or (datetime.now().astimezone() - timedelta(hours=hours))
    PaperOrder.objects.filter(pk=order_id).update(closed_at=closed_at)


def _assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == code


# --- §3 paper orders -------------------------------------------------------------------------

def test_create_order_flag_off_is_201_with_order_and_null_label(me):
    response = me.post(ORDERS, {"symbol": "AAPL", "side": "buy", "quantity": 10, "entry_price": "150.25",
                                "pre_label": "Bullish"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"order", "sentiment_label"} and body["sentiment_label"] is None
    order = body["order"]
    assert {"id", "symbol", "side", "quantity", "entry_price", "status", "opened_at", "closed_at",
            "realized_pnl"} <= set(order)
    assert order["status"] == "open" and order["closed_at"] is None and order["realized_pnl"] is None
    assert order["symbol"] == "AAPL" and order["side"] == "buy"
    assert isinstance(order["entry_price"], str) and Decimal(order["entry_price"]) == Decimal("150.25")
    assert isinstance(order["quantity"], str) and Decimal(order["quantity"]) == 10
    assert ISO_Z.match(order["opened_at"])


@pytest.mark.parametrize("quantity", [10, "10", 2.5, "2.5", "0.001", "1e2"])
@pytest.mark.parametrize("entry_price", [150, 150.25, "150.25"])
def test_quantity_and_price_as_decimal_string_or_number(me, quantity, entry_price):
    order = _open(me, quantity=quantity, entry_price=entry_price, pre_label=None)["order"]
    assert Decimal(order["quantity"]) == Decimal(str(quantity))
    assert Decimal(order["entry_price"]) == Decimal(str(entry_price))


def test_create_order_flag_on_writes_label_with_a_label_from_the_taxonomy_route(me, on):
    taxonomy = me.get(TAXONOMY).json()
    for pre_label in taxonomy["pre_labels"]:
        response = me.post(ORDERS, {"symbol": "MSFT", "side": "sell", "quantity": "1", "entry_price": "300",
                                    "strategy_type": "momentum", "pre_label": pre_label}, format="json")
        assert response.status_code == 201
        body = response.json()
        assert set(body["sentiment_label"]) == LABEL_CREATE_KEYS
        label = body["sentiment_label"]
        assert label["trade_id"] == body["order"]["id"] and label["pre_label"] == pre_label
        assert label["post_label"] is None and label["post_label_locked_at"] is None
        assert label["journal_note_present"] is False and label["taxonomy_version"] == taxonomy["version"]
        assert ISO_Z.match(label["pre_label_recorded_at"]) and ISO_Z.match(label["created_at"])
        assert me.get(f"{LABELS}/{label['id']}").json()["trade_id"] == body["order"]["id"]


@pytest.mark.parametrize("pre_label", ["missing", None, "", "bullish", "Panicked", 1])
def test_flag_on_requires_a_valid_pre_label_and_writes_nothing(me, on, pre_label):
    body = {"symbol": "AAPL", "side": "buy", "quantity": "10", "entry_price": "100"}
    if pre_label != "missing":
        body["pre_label"] = pre_label
    response = me.post(ORDERS, body, format="json")
    _assert_error(response, 400, "invalid_request")
    assert "pre_label" in response.json()["detail"]
    assert me.get(ORDERS).json()["orders"] == []
    assert me.get(FILTER).json()["sample"]["n"] == 0


@pytest.mark.parametrize("side,exit_price,pnl", [("buy", "155.00", "47.50"), ("buy", 140, "-102.50"),
                                                 ("sell", "140", "102.50"), ("sell", 160.25, "-100.00")])
def test_close_realizes_pnl(me, side, exit_price, pnl):
    order = _open(me, side=side, quantity="10", entry_price="150.25", pre_label=None)["order"]
    response = me.post(f"{ORDERS}/{order['id']}/close", {"exit_price": exit_price}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"order"}
    closed = response.json()["order"]
    assert closed["status"] == "closed" and ISO_Z.match(closed["closed_at"])
    assert isinstance(closed["realized_pnl"], str) and Decimal(closed["realized_pnl"]) == Decimal(pnl)
    assert me.get(f"{ORDERS}/{order['id']}").json()["order"]["status"] == "closed"


def test_closing_twice_is_409_order_closed(me):
    order, _ = _trade(me, exit_price="101", pre_label=None)
    _assert_error(me.post(f"{ORDERS}/{order['id']}/close", {"exit_price": "102"}, format="json"), 409,
                  "order_closed")
    assert Decimal(me.get(f"{ORDERS}/{order['id']}").json()["order"]["realized_pnl"]) == 10


@pytest.mark.parametrize("body", [{}, {"exit_price": None}, {"exit_price": 0}, {"exit_price": "-1"},
                                  {"exit_price": "abc"}, {"exit_price": True}, {"exit_price": [1]},
                                  {"exit_price": "1e400"}, {"exit_price": 10**30}])
def test_bad_close_body_is_400_and_the_order_stays_open(me, body):
    order = _open(me, pre_label=None)["order"]
    _assert_error(me.post(f"{ORDERS}/{order['id']}/close", body, format="json"), 400, "invalid_request")
    assert me.get(f"{ORDERS}/{order['id']}").json()["order"]["status"] == "open"


def test_orders_are_the_callers_own_only(me, them):
    mine = _open(me, pre_label=None)["order"]
    theirs = _open(them, pre_label=None)["order"]
    assert [o["id"] for o in me.get(ORDERS).json()["orders"]] == [mine["id"]]
    _assert_error(me.get(f"{ORDERS}/{theirs['id']}"), 404, "not_found")
    _assert_error(me.post(f"{ORDERS}/{theirs['id']}/close", {"exit_price": "1"}, format="json"), 404, "not_found")
    _assert_error(me.get(f"{ORDERS}/999999999"), 404, "not_found")
    _assert_error(me.get(f"{ORDERS}/99999999999999999999999"), 404, "not_found")
    assert them.get(f"{ORDERS}/{theirs['id']}").json()["order"]["status"] == "open"


def test_order_list_is_newest_first_and_paged(me):
    ids = [_open(me, pre_label=None)["order"]["id"] for _ in range(3)]
    assert [o["id"] for o in me.get(ORDERS).json()["orders"]] == ids[::-1]
    assert [o["id"] for o in me.get(ORDERS, {"limit": 1, "offset": 1}).json()["orders"]] == [ids[1]]
    assert me.get(ORDERS, {"offset": 50}).json()["orders"] == []
    assert me.get(ORDERS, {"limit": 501}).status_code == 200


@pytest.mark.parametrize("tier", ["free", "pro", "pro_plus", None])
def test_the_journal_is_for_every_tier(api_for, customer, on, tier):
    client = api_for(customer, tier)
    order, label = _trade(client, exit_price="101")
    assert label is not None
    assert client.patch(f"{LABELS}/{label['id']}", {"post_label": "FollowedPlan"}, format="json").status_code == 200
    assert client.get(FILTER).json()["stats"]["closed"] == 1


# --- §3 sentiment labels ------------------------------------------------------------------------

def test_two_step_label_create_is_201_with_exactly_the_design_fields(me, flags):
    order = _open(me, pre_label=None)["order"]  # flag off: no label
    flags.on(FLAG)
    response = me.post(LABELS, {"source_table": "paper_orders", "trade_id": order["id"], "pre_label": "Neutral"},
                       format="json")
    assert response.status_code == 201
    label = response.json()
    assert set(label) == LABEL_CREATE_KEYS
    assert label["trade_id"] == order["id"] and label["pre_label"] == "Neutral" and label["taxonomy_version"] == 1
    assert label["post_label"] is None and label["post_label_locked_at"] is None
    assert label["journal_note_present"] is False
    _assert_error(me.post(LABELS, {"source_table": "paper_orders", "trade_id": order["id"], "pre_label": "Bearish"},
                          format="json"), 409, "label_exists")
    assert me.get(f"{LABELS}/{label['id']}").json()["pre_label"] == "Neutral"


def test_label_for_an_order_opened_with_the_label_is_409(me, on):
    order, _ = _trade(me)
    _assert_error(me.post(LABELS, {"source_table": "paper_orders", "trade_id": order["id"], "pre_label": "Bearish"},
                          format="json"), 409, "label_exists")


def test_label_for_another_customers_or_a_missing_trade_is_404(me, them, flags):
    theirs = _open(them, pre_label=None)["order"]
    flags.on(FLAG)
    for trade_id in (theirs["id"], 987654321, str(theirs["id"])):
        _assert_error(me.post(LABELS, {"source_table": "paper_orders", "trade_id": trade_id, "pre_label": "Bullish"},
                              format="json"), 404, "not_found")
    assert them.post(LABELS, {"source_table": "paper_orders", "trade_id": theirs["id"], "pre_label": "Bullish"},
                     format="json").status_code == 201


def test_another_customers_label_is_404_on_get_and_patch(me, them, on):
    _, label = _trade(them, exit_price="101")
    _assert_error(me.get(f"{LABELS}/{label['id']}"), 404, "not_found")
    _assert_error(me.patch(f"{LABELS}/{label['id']}", {"post_label": "OverrodeRule"}, format="json"), 404,
                  "not_found")
    assert them.get(f"{LABELS}/{label['id']}").json()["post_label"] is None


def test_patch_and_get_have_the_shape_of_design_4_3(me, on):
    order, label = _trade(me, exit_price="110")
    post_labels = me.get(TAXONOMY).json()["post_labels"]
    response = me.patch(f"{LABELS}/{label['id']}", {"post_label": post_labels[0], "journal_note": "Held as planned."},
                        format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == LABEL_DETAIL_KEYS
    assert body["post_label"] == post_labels[0] and body["journal_note"] == "Held as planned."
    assert body["source_table"] == "paper_orders" and body["trade_id"] == order["id"]
    for key in ("pre_label_recorded_at", "post_label_recorded_at", "created_at", "updated_at"):
        assert ISO_Z.match(body[key]), key
    assert body["post_label_locked_at"] is None
    got = me.get(f"{LABELS}/{label['id']}")
    assert got.status_code == 200 and got.json() == body
    # each field on its own, every post-label of the taxonomy
    for post_label in post_labels:
        assert me.patch(f"{LABELS}/{label['id']}", {"post_label": post_label}, format="json").json()[
            "post_label"] == post_label
    assert me.patch(f"{LABELS}/{label['id']}", {"journal_note": "ü 漢字 🙂"}, format="json").json()[
        "journal_note"] == "ü 漢字 🙂"
    assert me.get(f"{LABELS}/{label['id']}").json()["post_label"] == post_labels[-1]


def test_a_null_post_label_next_to_a_note_changes_only_the_note(me, on):
    _, label = _trade(me, exit_price="110")
    me.patch(f"{LABELS}/{label['id']}", {"post_label": "FollowedPlan"}, format="json")
    response = me.patch(f"{LABELS}/{label['id']}", {"post_label": None, "journal_note": "n"}, format="json")
    assert response.status_code == 200
    assert response.json()["post_label"] == "FollowedPlan" and response.json()["journal_note"] == "n"
    _assert_error(me.patch(f"{LABELS}/{label['id']}", {"post_label": None}, format="json"), 400, "invalid_request")


def test_note_limit_is_2000_characters(me, on):
    _, label = _trade(me, exit_price="110")
    assert me.patch(f"{LABELS}/{label['id']}", {"journal_note": "🙂" * 2000}, format="json").status_code == 200
    response = me.patch(f"{LABELS}/{label['id']}", {"journal_note": "x" * 2001}, format="json")
    _assert_error(response, 400, "invalid_request")
    assert "journal_note" in response.json()["detail"]
    assert me.get(f"{LABELS}/{label['id']}").json()["journal_note"] == "🙂" * 2000


@pytest.mark.parametrize("body", [{}, {"post_label": "Panicked"}, {"post_label": "followedplan"},
                                  {"post_label": 3}, {"journal_note": 5 * [1]}, {"journal_note": {"a": 1}},
                                  {"unknown": "x"}, {"journal_note": "nul\x00byte"}])
def test_bad_patch_is_400_and_changes_nothing(me, on, body):
    _, label = _trade(me, exit_price="110")
    _assert_error(me.patch(f"{LABELS}/{label['id']}", body, format="json"), 400, "invalid_request")
    got = me.get(f"{LABELS}/{label['id']}").json()
    assert got["post_label"] is None and got["journal_note"] is None


def test_post_label_on_an_open_trade_is_409_trade_not_closed_but_a_note_is_fine(me, on):
    _, label = _trade(me)
    _assert_error(me.patch(f"{LABELS}/{label['id']}", {"post_label": "FollowedPlan"}, format="json"), 409,
                  "trade_not_closed")
    _assert_error(me.patch(f"{LABELS}/{label['id']}", {"post_label": "FollowedPlan", "journal_note": "n"},
                           format="json"), 409, "trade_not_closed")
    assert me.get(f"{LABELS}/{label['id']}").json()["journal_note"] is None  # nothing half-written
    assert me.patch(f"{LABELS}/{label['id']}", {"journal_note": "still open"}, format="json").status_code == 200


def test_label_locks_24h_after_the_close(me, on):
    order, label = _trade(me, exit_price="110")
    _age_close(order["id"], hours=23)
    assert me.patch(f"{LABELS}/{label['id']}", {"post_label": "FollowedPlan"}, format="json").status_code == 200
    _age_close(order["id"], hours=24, )
    for body in ({"post_label": "OverrodeRule"}, {"journal_note": "late"}, {"journal_note": None}):
        _assert_error(me.patch(f"{LABELS}/{label['id']}", body, format="json"), 409, "entry_is_locked")
    got = me.get(f"{LABELS}/{label['id']}").json()
    assert got["post_label"] == "FollowedPlan" and got["journal_note"] is None
    assert got["post_label_locked_at"] is not None and ISO_Z.match(got["post_label_locked_at"])


def test_taxonomy_route(me, on):
    response = me.get(TAXONOMY)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"version", "pre_labels", "post_labels"} and body["version"] == 1
    assert body["pre_labels"] == ["Bullish", "Bearish", "Neutral", "HighUncertainty"]
    assert body["post_labels"] == ["FollowedPlan", "HeldThroughPressure", "AdjustedWithReason", "OverrodeRule",
                                   "UnexpectedOutcome"]


def test_with_the_flag_off_every_label_route_is_404_and_orders_leak_nothing(me, flags):
    flags.on(FLAG)
    order, label = _trade(me, exit_price="101")
    flags.off(FLAG)
    for response in (me.get(TAXONOMY), me.get(f"{LABELS}/{label['id']}"), me.get(FILTER),
                     me.post(LABELS, {"source_table": "paper_orders", "trade_id": order["id"], "pre_label": "Bullish"},
                             format="json"),
                     me.patch(f"{LABELS}/{label['id']}", {"journal_note": "x"}, format="json"),
                     me.post(LABELS, {}, format="json"), me.get(f"{FILTER}?pre_label=nope")):
        _assert_error(response, 404, "not_found")
    for body in (me.get(ORDERS).json(), me.get(f"{ORDERS}/{order['id']}").json()):
        assert "label" not in json.dumps(body) and "Bullish" not in json.dumps(body)


# --- §3 the sentiment filter ---------------------------------------------------------------------

@pytest.fixture
def book(me, them, on):
    """My six labelled trades: +100 (note), -50, +20, open, 0, -30 (newest last); one of theirs."""
    specs = [("Bullish", "FollowedPlan", "110", "momentum"), ("Bullish", "OverrodeRule", "95", "momentum"),
             ("Bearish", "FollowedPlan", "102", "mean_reversion"), ("Bullish", None, None, "momentum"),
             ("Neutral", None, "100", None), ("Neutral", "UnexpectedOutcome", "97", None)]
    trades = []
    for i, (pre, post, exit_price, strategy) in enumerate(specs):
        order, label = _trade(me, pre_label=pre, exit_price=exit_price, quantity="10", entry_price="100",
                              **({"strategy_type": strategy} if strategy else {}))
        patch = {**({"post_label": post} if post else {}), **({"journal_note": "secret-7731"} if i == 0 else {})}
        if patch:
            assert me.patch(f"{LABELS}/{label['id']}", patch, format="json").status_code == 200
        trades.append(order)
    _trade(them, exit_price="1000")
    return trades


def test_filter_body_shape_stats_and_baseline(me, book):
    response = me.get(FILTER)
    assert response.status_code == 200
    body = response.json()
    assert {"filters", "sample", "stats", "baseline", "trades", "generated_at"} <= set(body)
    assert body["sample"] == {"n": 6, "sample_too_small": True}
    expected = {"n": 6, "closed": 5, "wins": 2, "losses": 2, "win_rate": 0.4, "total_pnl": "40.00",
                "avg_pnl": "8.00", "avg_win": "60.00", "avg_loss": "-40.00", "profit_factor": 1.5}
    assert point_stats(body["stats"]) == point_stats(body["baseline"]) == expected
    assert ISO_Z.match(body["generated_at"])
    assert [t["trade_id"] for t in body["trades"]] == [o["id"] for o in reversed(book)]
    for trade in body["trades"]:
        assert set(trade) == TRADE_KEYS
        assert trade["closed_at"] is None or ISO_Z.match(trade["closed_at"])
        assert ISO_Z.match(trade["opened_at"])
        assert trade["realized_pnl"] is None or MONEY_CENTS.match(trade["realized_pnl"])
        assert isinstance(trade["summary"], str) and trade["summary"]
        assert not re.search(r"\b(will|tend to|expect|likely)\b", trade["summary"], re.I)
    assert body["trades"][-1]["journal_note_present"] is True
    assert "secret-7731" not in response.content.decode()


def test_filter_by_labels_keeps_the_baseline_and_echoes_the_filters(me, book):
    body = me.get(FILTER, {"pre_label": "Bullish", "post_label": "FollowedPlan", "strategy_type": "momentum"}).json()
    assert body["filters"]["pre_label"] == "Bullish" and body["filters"]["post_label"] == "FollowedPlan"
    assert body["filters"]["strategy_type"] == "momentum"
    assert point_stats(body["stats"]) == {"n": 1, "closed": 1, "wins": 1, "losses": 0, "win_rate": 1.0, "total_pnl": "100.00",
                             "avg_pnl": "100.00", "avg_win": "100.00", "avg_loss": None, "profit_factor": None}
    assert body["baseline"]["n"] == 6
    assert [t["trade_id"] for t in body["trades"]] == [book[0]["id"]]
    assert me.get(FILTER, {"source_table": "paper_orders", "taxonomy_version": 1}).json()["stats"]["n"] == 6
    assert me.get(FILTER, {"taxonomy_version": 2}).json()["stats"]["n"] == 0


def test_win_rate_is_wins_over_closed_and_null_without_closes(me, on):
    _trade(me)  # open only
    stats = me.get(FILTER).json()["stats"]
    assert stats["n"] == 1 and stats["closed"] == 0 and stats["win_rate"] is None
    assert stats["total_pnl"] in ("0.00", None) and stats["avg_pnl"] is None and stats["profit_factor"] is None
    for exit_price in ("101", "102", "99"):
        _trade(me, exit_price=exit_price)
    stats = me.get(FILTER).json()["stats"]
    assert stats["win_rate"] == pytest.approx(2 / 3) and stats["profit_factor"] == 3.0
    assert isinstance(stats["win_rate"], float)


def test_money_fields_are_decimal_strings_rounded_to_cents(me, on):
    _trade(me, quantity="3", entry_price="10", exit_price="10.3333")  # +0.9999
    _trade(me, quantity="1", entry_price="10", exit_price="9.995")  # -0.005
    stats = me.get(FILTER).json()["stats"]
    for key in ("total_pnl", "avg_pnl", "avg_win", "avg_loss"):
        assert isinstance(stats[key], str) and MONEY_CENTS.match(stats[key]), key
    assert stats["total_pnl"] == "0.99" and stats["avg_win"] == "1.00"
    assert stats["avg_loss"] in ("-0.01", "-0.00", "0.00")


def test_sample_too_small_is_n_below_ten(me, on):
    for i in range(10):
        _trade(me, exit_price="101")
        assert me.get(FILTER).json()["sample"] == {"n": i + 1, "sample_too_small": i + 1 < 10}


def test_paging_default_100_max_500_and_stats_over_the_whole_set(me, customer, on):
    from journal.tests.conftest import make_label, make_order

    for _ in range(105):  # the HTTP way is correct too, just slow: 105 × (open, close)
        make_label(customer, make_order(customer, exit="101"))
    body = me.get(FILTER).json()
    assert len(body["trades"]) == 100 and body["stats"]["n"] == 105 and body["sample"]["n"] == 105
    assert len(me.get(FILTER, {"limit": 500}).json()["trades"]) == 105
    capped = me.get(FILTER, {"limit": 501})
    assert capped.status_code == 200 and len(capped.json()["trades"]) == 105
    page = me.get(FILTER, {"limit": 10, "offset": 100}).json()
    assert len(page["trades"]) == 5 and page["stats"]["n"] == 105
    beyond = me.get(FILTER, {"offset": 5000})
    assert beyond.status_code == 200 and beyond.json()["trades"] == [] and beyond.json()["stats"]["n"] == 105
    everything = [t["trade_id"] for t in me.get(FILTER, {"limit": 500}).json()["trades"]]
    assert [t["trade_id"] for t in me.get(FILTER, {"limit": 7, "offset": 3}).json()["trades"]] == everything[3:10]


def test_date_from_and_date_to_are_inclusive_days_of_closed_at(me, on):
    early, _ = _trade(me, exit_price="101")
    late, _ = _trade(me, exit_price="99")
    _trade(me)  # open: no closed_at, outside any date range
    _age_close(early["id"], at=datetime.fromisoformat("2026-03-10T00:00:00+00:00"))
    _age_close(late["id"], at=datetime.fromisoformat("2026-03-12T23:59:59.999999+00:00"))

    def n(**params):
        response = me.get(FILTER, params)
        assert response.status_code == 200
        return response.json()["stats"]["n"]

    assert n(date_from="2026-03-10", date_to="2026-03-12") == 2
    assert n(date_from="2026-03-10", date_to="2026-03-10") == 1
    assert n(date_to="2026-03-11") == 1 and n(date_from="2026-03-11") == 1
    assert n(date_from="2026-03-12", date_to="2026-03-12") == 1
    assert n(date_from="2026-03-13") == 0
    body = me.get(FILTER, {"date_from": "2026-03-10"}).json()
    assert body["filters"]["date_from"] == "2026-03-10" and body["baseline"]["n"] == 3


@pytest.mark.parametrize("params,field", [
    ({"pre_label": "Greedy"}, "pre_label"), ({"post_label": "Panicked"}, "post_label"),
    ({"source_table": "live_orders"}, "source_table"), ({"date_from": "2026-02-30"}, "date_from"),
    ({"date_to": "03/10/2026"}, "date_to"), ({"taxonomy_version": "v1"}, "taxonomy_version"),
    ({"limit": "ten"}, "limit"), ({"limit": "0"}, "limit"), ({"offset": "-1"}, "offset"),
    ({"date_from": "2026-03-12", "date_to": "2026-03-10"}, "date_to"),
])
def test_bad_filter_values_are_400_with_field_detail(me, on, params, field):
    response = me.get(FILTER, params)
    _assert_error(response, 400, "invalid_request")
    assert field in response.json()["detail"]


def test_empty_and_unknown_query_parameters_do_not_break_the_filter(me, on):
    _trade(me, exit_price="101")
    for params in ({"pre_label": ""}, {"strategy_type": ""}, {"date_from": "", "date_to": ""}, {"format": "json"},
                   {"page": "1"}, {"limit": "100000"}, {"offset": str(10**30)}):
        response = me.get(FILTER, params)
        assert response.status_code == 200, (params, response.content)


# --- §0 conventions: bad input never 500 ---------------------------------------------------------

@pytest.mark.parametrize("path,method", [(ORDERS, "post"), (f"{ORDERS}/1/close", "post"), (LABELS, "post"),
                                         (f"{LABELS}/1", "patch")])
@pytest.mark.parametrize("content_type,payload", [
    ("text/plain", "hello"), ("application/x-www-form-urlencoded", "symbol=AAPL&side=buy"),
    ("multipart/form-data; boundary=xx", "--xx--"), ("application/xml", "<a/>"),
])
def test_non_json_content_type_is_415_json(me, on, path, method, content_type, payload):
    response = getattr(me, method)(path, payload, content_type=content_type)
    _assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("path,method", [(ORDERS, "post"), (f"{ORDERS}/1/close", "post"), (LABELS, "post"),
                                         (f"{LABELS}/1", "patch")])
@pytest.mark.parametrize("raw", ["", "{", "[]", "[1, 2]", '"text"', "42", "null", "true", '{"a": NaN}',
                                 '{"symbol": "\\ud800"}', "\xff\xfe"])
def test_malformed_or_non_object_json_is_400(me, customer, on, path, method, raw):
    from journal.tests.conftest import make_label, make_order

    label = make_label(customer, make_order(customer, exit="101"))
    open_order = make_order(customer)
    path = path.replace(f"{LABELS}/1", f"{LABELS}/{label.id}").replace(f"{ORDERS}/1/", f"{ORDERS}/{open_order.id}/")
    response = getattr(me, method)(path, raw, content_type="application/json")
    _assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("field,value", [
    ("symbol", None), ("symbol", ""), ("symbol", "ÄÖÜ"), ("symbol", "A" * 1000), ("symbol", ["A"]),
    ("side", "BUY "), ("side", None), ("side", 1), ("quantity", None), ("quantity", 10**40), ("quantity", -0.0),
    ("quantity", "Infinity"), ("quantity", "NaN"), ("quantity", "1e-30"), ("quantity", {"v": 1}),
    ("entry_price", 1e308), ("entry_price", "0.0000001"), ("entry_price", False), ("strategy_type", "x" * 10_000),
    ("strategy_type", {"a": 1}), ("strategy_type", "nul\x00"),
])
def test_bad_order_fields_are_400_with_field_detail(me, field, value):
    body = {"symbol": "AAPL", "side": "buy", "quantity": "10", "entry_price": "100", field: value}
    response = me.post(ORDERS, body, format="json")
    _assert_error(response, 400, "invalid_request")
    assert field in response.json()["detail"]
    assert me.get(ORDERS).json()["orders"] == []


@pytest.mark.parametrize("trade_id", [None, "abc", 1.5, -1, 0, 2**64, True, [1], "1 OR 1=1"])
def test_bad_label_create_is_400(me, on, trade_id):
    response = me.post(LABELS, {"source_table": "paper_orders", "trade_id": trade_id, "pre_label": "Bullish"},
                       format="json")
    _assert_error(response, 400, "invalid_request")
    assert "trade_id" in response.json()["detail"]


@pytest.mark.parametrize("path", [f"{LABELS}/0", f"{LABELS}/{2**70}", f"{ORDERS}/{2**70}/close", f"{ORDERS}/-1",
                                  f"{LABELS}/abc", f"{ORDERS}/", f"{LABELS}/"])
def test_odd_ids_and_paths_are_json_404(me, on, path):
    for method in ("get", "post", "patch"):
        response = getattr(me, method)(path, {"exit_price": "1", "journal_note": "x"}, format="json")
        assert response.status_code in (404, 405), (method, path, response.status_code)
        assert response["Content-Type"].startswith("application/json")


def test_no_token_is_401_everywhere(client, on):
    for path in (ORDERS, f"{ORDERS}/1", LABELS, f"{LABELS}/1", TAXONOMY, FILTER):
        response = client.get(path)
        assert response.status_code == 401 or (response.status_code == 405 and path == LABELS)
        assert "error" in response.json()


def test_large_paper_trades_close_without_a_500(me):
    for quantity, entry, exit_price in (("1", "2000000", "2100000"), ("1000000000", "0.000001", "0.000002"),
                                        ("0.000001", "9999999999", "1"), ("9999999999", "9999999999", "1")):
        order = _open(me, quantity=quantity, entry_price=entry, pre_label=None)["order"]
        closed = _close(me, order["id"], exit_price)
        assert Decimal(closed["realized_pnl"]) == (Decimal(exit_price) - Decimal(entry)) * Decimal(quantity)


def test_lock_time_shown_on_read_is_the_one_the_worker_stores(me, on):
    from journal.services import sentiment_labels_lock_due

    order, label = _trade(me, exit_price="110")
    _age_close(order["id"], at=datetime.fromisoformat("2026-03-10T15:30:00+00:00"))
    before = me.get(f"{LABELS}/{label['id']}").json()["post_label_locked_at"]
    assert before == "2026-03-11T15:30:00Z"
    assert sentiment_labels_lock_due() == 1
    assert me.get(f"{LABELS}/{label['id']}").json()["post_label_locked_at"] == before


@pytest.mark.parametrize("path,raw", [
    (LABELS, '{"source_table": "paper_orders", "trade_id": 1, "pre_label": "\\ud800"}'),
    (LABELS, '{"source_table": "\\udfff", "trade_id": 1, "pre_label": "Bullish"}'),
    (f"{LABELS}/1", '{"post_label": "\\ud83d"}'),
    (f"{LABELS}/1", '{"journal_note": "\\ud800"}'),
    (f"{LABELS}/1", '{"journal_note": 12345}'),
    (f"{LABELS}/1", '{"journal_note": 1e999}'),
    (ORDERS, '{"symbol": "AAPL", "side": "\\ud800", "quantity": 1, "entry_price": 1, "pre_label": "Bullish"}'),
    (ORDERS, '{"symbol": "AAPL", "side": "buy", "quantity": 1, "entry_price": 1, "pre_label": "\\ud800"}'),
    (ORDERS, '{"symbol": "AAPL", "side": "buy", "quantity": 1, "entry_price": 1, "pre_label": 1}'),
    (ORDERS, '{"symbol": "AAPL", "side": "buy", "quantity": 1, "entry_price": 1, "pre_label": "Bullish", '
             '"strategy_type": 7}'),
    (ORDERS, '{"symbol": 1234, "side": "buy", "quantity": 1, "entry_price": 1, "pre_label": "Bullish"}'),
])
def test_lone_surrogates_and_wrong_json_types_are_400_not_500(me, customer, on, path, raw):
    from journal.tests.conftest import make_label, make_order

    label = make_label(customer, make_order(customer, exit="101"))
    method = me.patch if path.startswith(f"{LABELS}/") else me.post
    response = method(path.replace(f"{LABELS}/1", f"{LABELS}/{label.id}"), raw, content_type="application/json")
    _assert_error(response, 400, "invalid_request")
    assert me.get(f"{LABELS}/{label.id}").json()["journal_note"] is None


@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01", "date_from=9999-12-31",
                                   "date_from=0001-01-01&date_to=9999-12-31", "strategy_type=%ED%A0%80",
                                   "pre_label=Bullish&pre_label=Bearish", "offset=99999999999999999999999999"])
def test_extreme_filter_values_answer_200(me, on, query):
    _trade(me, exit_price="101")
    response = me.get(f"{FILTER}?{query}")
    assert response.status_code == 200, response.content


# --- query bounds and the admin (smoke) ---------------------------------------------------------

@pytest.mark.parametrize("rows", [1, 40])
def test_labelled_order_routes_have_a_constant_query_count(me, customer, on, django_assert_max_num_queries, rows):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from journal.tests.conftest import make_label, make_order
    from journal.tests.test_sentiment_filter import filter_statements

    for _ in range(rows):
        make_label(customer, make_order(customer, exit="101"))
    with django_assert_max_num_queries(12):
        order, label = _trade(me)
    with django_assert_max_num_queries(16):
        _close(me, order["id"], "105")
    with django_assert_max_num_queries(4), CaptureQueriesContext(connection) as queries:
        assert me.get(FILTER, {"pre_label": "Bullish", "date_from": "2020-01-01", "limit": 500}).status_code == 200
    assert len(filter_statements(queries)) == 2  # the grouped counts and sums, the page; + the caller (+ flags)


@pytest.mark.parametrize("query", ["", "?q=AAPL", "?q=%C3%A9%25_", "?q=00000000-0000", "?status__exact=closed",
                                   "?o=1", "?opened_at__year=2026"])
def test_admin_paper_order_list_smoke(admin_client, me, query):
    _trade(me, exit_price="101", pre_label=None)
    response = admin_client.get(f"/admin/journal/paperorder/{query}")
    assert response.status_code == 200


@pytest.mark.parametrize("query", ["", "?q=abc", "?q=%25", "?pre_label__exact=Bullish", "?post_label__isnull=True",
                                   "?taxonomy_version__version__exact=1", "?o=-1"])
def test_admin_label_list_and_pages_smoke(admin_client, me, on, query):
    order, label = _trade(me, exit_price="101")
    me.patch(f"{LABELS}/{label['id']}", {"journal_note": "admin-canary-991"}, format="json")
    _age_close(order["id"], hours=48)
    response = admin_client.get(f"/admin/journal/tradesentimentlabel/{query}")
    assert response.status_code == 200 and b"admin-canary-991" not in response.content
    detail = admin_client.get(f"/admin/journal/tradesentimentlabel/{label['id']}/change/")
    assert detail.status_code == 200 and b"admin-canary-991" not in detail.content
    assert "🔒 Locked at" in detail.content.decode()  # 48 h after the close, before the worker ran
    assert admin_client.get(f"/admin/journal/paperorder/{order['id']}/change/").status_code == 200
    assert admin_client.get("/admin/journal/sentimenttaxonomyversion/").status_code == 200
    assert admin_client.get("/admin/journal/sentimenttaxonomyversion/add/").status_code == 200
    assert admin_client.get("/admin/journal/sentimenttaxonomyversion/1/change/").status_code == 200



def test_the_schema_documents_every_journal_route(client, db):
    """§0: the OpenAPI schema is served; it lists the §3 routes (the flag hides responses, not docs,
    as for the WCB route)."""
    response = client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    listed = set(json.loads(response.content)["paths"])
    assert {"/api/paper-orders", "/api/paper-orders/{id}", "/api/paper-orders/{id}/close",
            "/api/sentiment-labels", "/api/sentiment-labels/{id}", "/api/sentiment-labels/taxonomy",
            "/api/backtest/sentiment-filter"} <= listed
