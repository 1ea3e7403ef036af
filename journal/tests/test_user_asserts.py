"""User asserts, system never infers: no default, no suggestion, no label derived from the trade."""

from datetime import timedelta

from django.core.cache import cache

from journal.apis import PaperOrderListCreateApi, SentimentLabelCreateApi, SentimentLabelDetailApi
from journal.models import PaperOrder, TradeSentimentLabel
from journal.tests.conftest import make_label, make_order


def test_label_columns_have_no_default_value():
    assert not TradeSentimentLabel._meta.get_field("pre_label").has_default()
    assert not TradeSentimentLabel._meta.get_field("post_label").has_default()
    assert TradeSentimentLabel._meta.get_field("pre_label").db_default is TradeSentimentLabel._meta.get_field(
        "id").db_default  # i.e. NOT_PROVIDED


def test_input_serializers_have_no_label_default():
    fields = [PaperOrderListCreateApi.PaperOrderCreateInputSerializer().fields["pre_label"],
              SentimentLabelCreateApi.SentimentLabelCreateInputSerializer().fields["pre_label"],
              SentimentLabelDetailApi.SentimentLabelPatchInputSerializer().fields["post_label"]]
    from rest_framework.fields import empty

    assert all(f.default is empty for f in fields)


def test_taxonomy_response_has_no_suggestion(api, journal_on, customer):
    make_label(customer, make_order(customer, exit="50"), pre="Bearish", post="OverrodeRule")
    body = api.get("/api/sentiment-labels/taxonomy").json()
    assert set(body) == {"version", "pre_labels", "post_labels"}


def test_closing_a_losing_trade_sets_no_post_label(api, customer, journal_on):
    created = api.post("/api/paper-orders", {"symbol": "AAPL", "side": "buy", "quantity": "1", "entry_price": "100",
                                             "pre_label": "Bullish"}, format="json").json()
    api.post(f"/api/paper-orders/{created['order']['id']}/close", {"exit_price": "50"}, format="json")
    label = TradeSentimentLabel.objects.get()
    assert label.post_label is None and label.post_label_recorded_at is None


def test_lock_without_post_label_leaves_it_empty(customer):
    from journal.services import sentiment_labels_lock_due

    label = make_label(customer, make_order(customer, exit="50", closed_ago=timedelta(days=2)))
    sentiment_labels_lock_due()
    label.refresh_from_db()
    assert label.is_locked and label.post_label is None


def test_labels_are_not_created_for_orders_opened_with_the_flag_off(api, flags):
    api.post("/api/paper-orders", {"symbol": "AAPL", "side": "buy", "quantity": "1", "entry_price": "100"},
             format="json")
    flags.on("FLAG_SENTIMENT_JOURNAL")
    cache.clear()  # waffle flushes its cache on commit, which a test transaction never reaches
    order = PaperOrder.objects.get()
    assert not TradeSentimentLabel.objects.exists()
    response = api.get("/api/backtest/sentiment-filter")
    assert response.json()["sample"]["n"] == 0, response.content
    assert order.sentiment_labels.count() == 0
