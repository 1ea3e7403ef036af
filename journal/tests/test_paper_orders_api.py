from decimal import Decimal

import pytest
from django.db import connection

from journal.models import PaperOrder, TradeSentimentLabel
from journal.tests.conftest import make_order
from raxx.models import AuditEvent

ORDER = {"symbol": "AAPL", "side": "buy", "quantity": "10", "entry_price": "150.25"}


def test_create_with_flag_off_ignores_pre_label_and_leaks_nothing(api, customer):
    response = api.post("/api/paper-orders", {**ORDER, "pre_label": "Bullish"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["sentiment_label"] is None
    assert set(body) == {"order", "sentiment_label"}
    assert "label" not in str(body["order"])
    assert body["order"]["status"] == "open" and body["order"]["entry_price"] == "150.25"
    assert body["order"]["quantity"] == "10"
    assert body["order"]["opened_at"].endswith("Z")
    assert TradeSentimentLabel.objects.count() == 0
    assert AuditEvent.objects.filter(event_type="paper_order_opened", customer=customer).count() == 1


@pytest.mark.parametrize("pre_label", ["Panicked", "x" * 500, 7, {"a": 1}])
def test_create_with_flag_off_ignores_even_a_bogus_pre_label(api, pre_label):
    response = api.post("/api/paper-orders", {**ORDER, "pre_label": pre_label}, format="json")
    assert response.status_code == 201
    assert response.json()["sentiment_label"] is None


def test_create_with_flag_on_writes_order_and_label_together(api, customer, journal_on):
    response = api.post("/api/paper-orders", {**ORDER, "pre_label": "Bearish", "strategy_type": "momentum"},
                        format="json")
    assert response.status_code == 201
    body = response.json()
    label = body["sentiment_label"]
    assert label["pre_label"] == "Bearish" and label["trade_id"] == body["order"]["id"]
    assert set(label) == {"id", "trade_id", "pre_label", "pre_label_recorded_at", "post_label",
                          "post_label_locked_at", "journal_note_present", "taxonomy_version", "created_at"}
    assert label["journal_note_present"] is False and label["taxonomy_version"] == 1
    assert TradeSentimentLabel.objects.get().customer == customer


@pytest.mark.parametrize("pre_label", [None, "", "bullish", "Panicked", 7])
def test_flag_on_without_a_valid_pre_label_is_refused_and_nothing_written(api, journal_on, pre_label):
    body = dict(ORDER)
    if pre_label is not None:
        body["pre_label"] = pre_label
    response = api.post("/api/paper-orders", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "pre_label" in response.json()["detail"]
    assert PaperOrder.objects.count() == 0 and TradeSentimentLabel.objects.count() == 0


@pytest.mark.parametrize("field,value", [
    ("side", "hold"), ("quantity", "0"), ("quantity", "-1"), ("quantity", "abc"), ("quantity", True),
    ("entry_price", "0"), ("entry_price", "NaN"), ("entry_price", "1e400"), ("entry_price", [1]),
    ("symbol", ""), ("symbol", "X" * 40), ("symbol", "A A"), ("strategy_type", "s" * 65),
])
def test_bad_order_input_is_a_400_with_field_detail(api, field, value):
    response = api.post("/api/paper-orders", {**ORDER, field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert PaperOrder.objects.count() == 0


def test_non_object_body_is_a_400(api):
    response = api.post("/api/paper-orders", ["x"], format="json")
    assert response.status_code == 400


def test_numbers_are_accepted_and_returned_as_decimal_strings(api):
    response = api.post("/api/paper-orders", {**ORDER, "quantity": 2.5, "entry_price": 10}, format="json")
    assert response.status_code == 201
    assert response.json()["order"]["quantity"] == "2.5"
    assert response.json()["order"]["entry_price"] == "10.00"


@pytest.mark.parametrize("side,exit_price,pnl", [("buy", "110", "100.00"), ("sell", "110", "-100.00"),
                                                  ("buy", "99.5", "-5.00")])
def test_close_realizes_pnl(api, customer, side, exit_price, pnl):
    order = make_order(customer, side=side, quantity="10", entry="100")
    response = api.post(f"/api/paper-orders/{order.id}/close", {"exit_price": exit_price}, format="json")
    assert response.status_code == 200
    body = response.json()["order"]
    assert body["status"] == "closed" and body["closed_at"].endswith("Z")
    assert Decimal(body["realized_pnl"]) == Decimal(pnl)
    assert AuditEvent.objects.filter(event_type="paper_order_closed").count() == 1


def test_closing_twice_is_409_order_closed(api, customer):
    order = make_order(customer)
    assert api.post(f"/api/paper-orders/{order.id}/close", {"exit_price": "101"}, format="json").status_code == 200
    response = api.post(f"/api/paper-orders/{order.id}/close", {"exit_price": "120"}, format="json")
    assert response.status_code == 409 and response.json() == {"error": "order_closed"}
    order.refresh_from_db()
    assert order.exit_price == Decimal("101")


@pytest.mark.parametrize("body", [{}, {"exit_price": "0"}, {"exit_price": "x"}, {"exit_price": None}])
def test_close_with_bad_exit_price_is_400(api, customer, body):
    order = make_order(customer)
    response = api.post(f"/api/paper-orders/{order.id}/close", body, format="json")
    assert response.status_code == 400 and "exit_price" in response.json()["detail"]
    order.refresh_from_db()
    assert order.status == "open"


def test_list_and_detail_show_only_my_orders(api, customer, other_customer):
    mine = make_order(customer)
    theirs = make_order(other_customer)
    listed = api.get("/api/paper-orders").json()["orders"]
    assert [o["id"] for o in listed] == [mine.id]
    assert api.get(f"/api/paper-orders/{mine.id}").json()["order"]["id"] == mine.id
    for path in (f"/api/paper-orders/{theirs.id}", "/api/paper-orders/999999", "/api/paper-orders/99999999999999999999999"):
        response = api.get(path)
        assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_another_customers_order_cannot_be_closed(api, other_customer):
    theirs = make_order(other_customer)
    response = api.post(f"/api/paper-orders/{theirs.id}/close", {"exit_price": "1"}, format="json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "open"


def test_no_token_is_401(client):
    assert client.get("/api/paper-orders").status_code == 401


@pytest.mark.parametrize("rows", [1, 30])
def test_order_routes_have_a_constant_query_count(api, customer, django_assert_max_num_queries, rows):
    orders = [make_order(customer) for _ in range(rows)]
    api.get("/api/paper-orders")  # the caller's row and the flags are cached now, as after any request
    with django_assert_max_num_queries(1):
        assert api.get("/api/paper-orders").status_code == 200
    with django_assert_max_num_queries(1):
        assert api.get(f"/api/paper-orders/{orders[0].id}").status_code == 200
    with django_assert_max_num_queries(14):  # the close also records the WCB position + snapshot
        assert api.post(f"/api/paper-orders/{orders[0].id}/close", {"exit_price": "1"}, format="json").status_code == 200
    with django_assert_max_num_queries(6):
        assert api.post("/api/paper-orders", ORDER, format="json").status_code == 201


def test_largest_accepted_numbers_close_without_overflow(api):
    big = "9999999999.999999"
    created = api.post("/api/paper-orders", {**ORDER, "side": "sell", "quantity": big, "entry_price": big},
                       format="json")
    assert created.status_code == 201
    closed = api.post(f"/api/paper-orders/{created.json()['order']['id']}/close", {"exit_price": "0.000001"},
                      format="json")
    assert closed.status_code == 200
    if connection.vendor == "postgresql":  # SQLite stores decimals as floats; PostgreSQL keeps them exact
        assert Decimal(closed.json()["order"]["realized_pnl"]) == (Decimal(big) - Decimal("0.000001")) * Decimal(big)
    too_big = api.post("/api/paper-orders", {**ORDER, "quantity": "99999999999"}, format="json")
    assert too_big.status_code == 400 and "quantity" in too_big.json()["detail"]
