from datetime import timedelta

import pytest

from journal.models import SentimentTaxonomyVersion
from journal.tests.conftest import make_label, make_order

NOTE = "admin-must-not-see-9921"


@pytest.fixture
def labels(customer):
    locked = make_label(customer, make_order(customer, exit="101", closed_ago=timedelta(days=2)), post="FollowedPlan",
                        note=NOTE, locked=True)
    unlocked = make_label(customer, make_order(customer), pre="Bearish")
    return locked, unlocked


@pytest.mark.parametrize("query", ["", "?locked=yes", "?locked=no", "?post_label_set=yes", "?post_label_set=no",
                                   "?pre_label=Bearish", "?post_label=FollowedPlan", "?taxonomy_version__version__exact=1"])
def test_label_list_filters_render_without_note_text(admin_client, labels, query):
    response = admin_client.get(f"/admin/journal/tradesentimentlabel/{query}")
    assert response.status_code == 200
    assert NOTE.encode() not in response.content


def test_locked_filter_selects_locked_rows(admin_client, labels):
    locked, unlocked = labels
    body = admin_client.get("/admin/journal/tradesentimentlabel/?locked=yes").content.decode()
    assert f"/admin/journal/tradesentimentlabel/{locked.id}/change/" in body
    assert f"/admin/journal/tradesentimentlabel/{unlocked.id}/change/" not in body


def test_locked_label_page_says_locked_and_is_read_only(admin_client, labels):
    locked, _ = labels
    page = admin_client.get(f"/admin/journal/tradesentimentlabel/{locked.id}/change/")
    body = page.content.decode()
    assert page.status_code == 200 and "Locked at" in body and "read-only" in body
    assert NOTE not in body and 'name="journal_note"' not in body and 'name="_save"' not in body
    response = admin_client.post(f"/admin/journal/tradesentimentlabel/{locked.id}/change/", {"post_label": "OverrodeRule"})
    assert response.status_code == 403
    locked.refresh_from_db()
    assert locked.post_label == "FollowedPlan"


def test_paper_order_pages_render(admin_client, labels):
    assert admin_client.get("/admin/journal/paperorder/?status__exact=closed").status_code == 200
    assert admin_client.get(f"/admin/journal/paperorder/{labels[0].trade_id}/change/").status_code == 200


def test_operator_adds_a_taxonomy_version(admin_client):
    response = admin_client.post("/admin/journal/sentimenttaxonomyversion/add/", {
        "version": 2, "pre_labels": '["Bullish", "Bearish"]', "post_labels": '["FollowedPlan", "OverrodeRule"]',
        "description": "A shorter set.", "effective_from_0": "2026-01-01", "effective_from_1": "00:00:00"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SentimentTaxonomyVersion.objects.get(version=2).pre_label_list == ["Bullish", "Bearish"]
    assert admin_client.get("/admin/journal/sentimenttaxonomyversion/").status_code == 200


@pytest.mark.parametrize("field,value", [("version", 1), ("pre_labels", "Bullish"), ("pre_labels", "[]"),
                                         ("post_labels", '["Panicked"]'), ("pre_labels", '["Bullish", "Bullish"]')])
def test_bad_taxonomy_versions_are_refused(admin_client, field, value):
    data = {"version": 2, "pre_labels": '["Bullish"]', "post_labels": '["FollowedPlan"]', "description": "",
            "effective_from_0": "2026-01-01", "effective_from_1": "00:00:00", field: value}
    response = admin_client.post("/admin/journal/sentimenttaxonomyversion/add/", data)
    assert response.status_code == 200  # the form again, with the error
    assert not SentimentTaxonomyVersion.objects.filter(version=2).exists()


def test_new_taxonomy_version_becomes_current_for_new_labels(api, customer, journal_on):
    from django.utils import timezone

    SentimentTaxonomyVersion.objects.create(version=2, pre_labels='["Neutral"]', post_labels='["FollowedPlan"]',
                                            effective_from=timezone.now())
    assert api.get("/api/sentiment-labels/taxonomy").json()["version"] == 2
    order = make_order(customer)
    refused = api.post("/api/sentiment-labels", {"source_table": "paper_orders", "trade_id": order.id,
                                                 "pre_label": "Bullish"}, format="json")
    assert refused.status_code == 400 and "pre_label" in refused.json()["detail"]
    made = api.post("/api/sentiment-labels", {"source_table": "paper_orders", "trade_id": order.id,
                                              "pre_label": "Neutral"}, format="json")
    assert made.status_code == 201 and made.json()["taxonomy_version"] == 2


@pytest.mark.parametrize("rows", [1, 20])
def test_admin_lists_have_a_constant_query_count(admin_client, customer, django_assert_max_num_queries, rows):
    for _ in range(rows):
        make_label(customer, make_order(customer, exit="101"), note=NOTE)
    for url in ("/admin/journal/tradesentimentlabel/", "/admin/journal/paperorder/"):
        with django_assert_max_num_queries(12):
            assert admin_client.get(url).status_code == 200


def test_label_list_draws_label_counts(admin_client, labels):
    body = admin_client.get("/admin/journal/tradesentimentlabel/?locked=yes").content.decode()
    assert "Pre-trade labels" in body and "Post-trade labels" in body and "(none recorded)" in body
    assert NOTE not in body
