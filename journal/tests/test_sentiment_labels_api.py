from datetime import timedelta

import pytest

from journal.models import TradeSentimentLabel
from journal.tests.conftest import make_label, make_order
from raxx.models import AuditEvent

NOTE = "Held through the Tuesday spike as planned. zq-secret-note-7731"


def create(api, trade_id, pre="Bullish"):
    return api.post("/api/sentiment-labels", {"source_table": "paper_orders", "trade_id": trade_id,
                                              "pre_label": pre}, format="json")


def test_create_returns_exactly_the_design_fields(api, customer, journal_on):
    order = make_order(customer)
    response = create(api, order.id)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "trade_id", "pre_label", "pre_label_recorded_at", "post_label",
                         "post_label_locked_at", "journal_note_present", "taxonomy_version", "created_at"}
    assert body["trade_id"] == order.id and body["pre_label"] == "Bullish" and body["post_label"] is None
    assert body["pre_label_recorded_at"].endswith("Z") and body["created_at"].endswith("Z")
    assert body["journal_note_present"] is False and body["taxonomy_version"] == 1
    assert AuditEvent.objects.filter(event_type="sentiment_label_created", customer=customer).count() == 1


def test_second_label_for_a_trade_is_409(api, customer, journal_on):
    order = make_order(customer)
    assert create(api, order.id).status_code == 201
    response = create(api, order.id, pre="Bearish")
    assert response.status_code == 409 and response.json() == {"error": "label_exists"}
    assert TradeSentimentLabel.objects.get().pre_label == "Bullish"


def test_label_for_another_customers_trade_is_404(api, other_customer, journal_on):
    theirs = make_order(other_customer)
    response = create(api, theirs.id)
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert TradeSentimentLabel.objects.count() == 0


def test_another_customers_label_is_404_for_get_and_patch(api, other_customer, journal_on):
    theirs = make_label(other_customer, make_order(other_customer, exit="101"), note=NOTE)
    get = api.get(f"/api/sentiment-labels/{theirs.id}")
    patch = api.patch(f"/api/sentiment-labels/{theirs.id}", {"post_label": "FollowedPlan"}, format="json")
    assert get.status_code == 404 and patch.status_code == 404
    assert NOTE not in get.content.decode() + patch.content.decode()
    theirs.refresh_from_db()
    assert theirs.post_label is None


@pytest.mark.parametrize("body,field", [
    ({"source_table": "paper_orders", "trade_id": 1, "pre_label": "Confident"}, "pre_label"),
    ({"source_table": "paper_orders", "trade_id": 1}, "pre_label"),
    ({"source_table": "live_orders", "trade_id": 1, "pre_label": "Bullish"}, "source_table"),
    ({"source_table": "paper_orders", "trade_id": "abc", "pre_label": "Bullish"}, "trade_id"),
    ({"source_table": "paper_orders", "trade_id": 10**30, "pre_label": "Bullish"}, "trade_id"),
    ({"source_table": "paper_orders", "pre_label": "Bullish"}, "trade_id"),
])
def test_bad_create_input_is_400_with_field_detail(api, journal_on, body, field):
    response = api.post("/api/sentiment-labels", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_patch_sets_post_label_and_note_and_get_shows_the_note(api, customer, journal_on):
    label = make_label(customer, make_order(customer, exit="110"))
    response = api.patch(f"/api/sentiment-labels/{label.id}", {"post_label": "FollowedPlan", "journal_note": NOTE},
                         format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "trade_id", "source_table", "pre_label", "pre_label_recorded_at", "post_label",
                         "post_label_recorded_at", "post_label_locked_at", "journal_note", "taxonomy_version",
                         "created_at", "updated_at"}
    assert body["post_label"] == "FollowedPlan" and body["post_label_recorded_at"].endswith("Z")
    assert body["journal_note"] == NOTE
    assert api.get(f"/api/sentiment-labels/{label.id}").json()["journal_note"] == NOTE
    event = AuditEvent.objects.get(event_type="sentiment_label_updated")
    assert NOTE not in str(event.data)


def test_note_only_patch_works_on_an_open_trade(api, customer, journal_on):
    label = make_label(customer, make_order(customer))
    response = api.patch(f"/api/sentiment-labels/{label.id}", {"journal_note": "Entered on the breakout."},
                         format="json")
    assert response.status_code == 200 and response.json()["post_label"] is None


def test_post_label_on_an_open_trade_is_409_trade_not_closed(api, customer, journal_on):
    label = make_label(customer, make_order(customer))
    response = api.patch(f"/api/sentiment-labels/{label.id}", {"post_label": "FollowedPlan"}, format="json")
    assert response.status_code == 409 and response.json() == {"error": "trade_not_closed"}


@pytest.mark.parametrize("body,field", [
    ({}, "non_field_errors"),
    ({"post_label": "Panicked"}, "post_label"),
    ({"post_label": None}, "post_label"),
    ({"post_label": 3}, "post_label"),
    ({"journal_note": "x" * 2001}, "journal_note"),
    ({"journal_note": {"a": 1}}, "journal_note"),
])
def test_bad_patch_input_is_400_and_nothing_changes(api, customer, journal_on, body, field):
    label = make_label(customer, make_order(customer, exit="101"))
    response = api.patch(f"/api/sentiment-labels/{label.id}", body, format="json")
    assert response.status_code == 400 and field in response.json()["detail"]
    label.refresh_from_db()
    assert label.post_label is None and label.journal_note is None


def test_note_of_exactly_2000_chars_is_accepted(api, customer, journal_on):
    label = make_label(customer, make_order(customer, exit="101"))
    response = api.patch(f"/api/sentiment-labels/{label.id}", {"journal_note": "n" * 2000}, format="json")
    assert response.status_code == 200


def test_locked_label_patch_is_409_entry_is_locked(api, customer, journal_on):
    label = make_label(customer, make_order(customer, exit="101", closed_ago=timedelta(hours=30)), locked=True)
    response = api.patch(f"/api/sentiment-labels/{label.id}", {"journal_note": "later"}, format="json")
    assert response.status_code == 409 and response.json() == {"error": "entry_is_locked"}
    label.refresh_from_db()
    assert label.journal_note is None


def test_patch_checks_the_window_itself_before_the_worker_ran(api, customer, journal_on):
    label = make_label(customer, make_order(customer, exit="101", closed_ago=timedelta(hours=24, seconds=1)))
    response = api.patch(f"/api/sentiment-labels/{label.id}", {"post_label": "OverrodeRule"}, format="json")
    assert response.status_code == 409 and response.json() == {"error": "entry_is_locked"}


def test_patch_inside_the_window_is_allowed(api, customer, journal_on):
    label = make_label(customer, make_order(customer, exit="101", closed_ago=timedelta(hours=23, minutes=59)))
    response = api.patch(f"/api/sentiment-labels/{label.id}", {"post_label": "OverrodeRule"}, format="json")
    assert response.status_code == 200


def test_taxonomy_is_served_and_not_shadowed_by_the_id_route(api, journal_on):
    response = api.get("/api/sentiment-labels/taxonomy")
    assert response.status_code == 200
    assert response.json() == {
        "version": 1, "pre_labels": ["Bullish", "Bearish", "Neutral", "HighUncertainty"],
        "post_labels": ["FollowedPlan", "HeldThroughPressure", "AdjustedWithReason", "OverrodeRule",
                        "UnexpectedOutcome"]}


def test_huge_label_id_is_404_not_500(api, journal_on):
    assert api.get("/api/sentiment-labels/99999999999999999999999").status_code == 404
    response = api.patch("/api/sentiment-labels/99999999999999999999999", {"journal_note": "a"}, format="json")
    assert response.status_code == 404


def test_label_routes_need_a_token(client, journal_on):
    assert client.get("/api/sentiment-labels/taxonomy").status_code == 401
    assert client.get("/api/backtest/sentiment-filter").status_code == 401


def test_with_flag_off_every_label_route_is_404(api, customer, flags):
    label = make_label(customer, make_order(customer, exit="101"), note=NOTE)
    responses = [
        api.post("/api/sentiment-labels", {"source_table": "paper_orders", "trade_id": label.trade_id,
                                           "pre_label": "Bullish"}, format="json"),
        api.get(f"/api/sentiment-labels/{label.id}"),
        api.patch(f"/api/sentiment-labels/{label.id}", {"post_label": "FollowedPlan"}, format="json"),
        api.get("/api/sentiment-labels/taxonomy"),
        api.get("/api/backtest/sentiment-filter"),
    ]
    assert [r.status_code for r in responses] == [404] * 5
    assert all(r.json()["error"] == "not_found" for r in responses)
    # and nothing about labels shows up on the routes that stay open
    text = api.get("/api/paper-orders").content.decode() + api.get(f"/api/paper-orders/{label.trade_id}").content.decode()
    assert "label" not in text and "Bullish" not in text and NOTE not in text
    label.refresh_from_db()
    assert label.post_label is None


@pytest.mark.parametrize("rows", [1, 25])
def test_label_routes_have_a_constant_query_count(api, customer, journal_on, django_assert_max_num_queries, rows):
    labels = [make_label(customer, make_order(customer, exit="101")) for _ in range(rows)]
    fresh = make_order(customer)
    api.get("/api/sentiment-labels/taxonomy")  # the caller's row and the flags are cached now
    with django_assert_max_num_queries(1):
        assert api.get(f"/api/sentiment-labels/{labels[-1].id}").status_code == 200
    with django_assert_max_num_queries(1):  # the taxonomy row
        assert api.get("/api/sentiment-labels/taxonomy").status_code == 200
    with django_assert_max_num_queries(8):
        assert create(api, fresh.id).status_code == 201
    with django_assert_max_num_queries(6):
        assert api.patch(f"/api/sentiment-labels/{labels[0].id}", {"post_label": "FollowedPlan"},
                         format="json").status_code == 200


def test_source_table_defaults_to_paper_orders(api, customer, journal_on):
    order = make_order(customer)
    response = api.post("/api/sentiment-labels", {"trade_id": order.id, "pre_label": "Neutral"}, format="json")
    assert response.status_code == 201
    assert TradeSentimentLabel.objects.get().source_table == "paper_orders"
