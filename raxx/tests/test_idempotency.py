"""Idempotency-Key on the four create routes (CONTRACTS §10, Stripe's semantics)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import concurrently
from journal.models import PaperOrder, TradeSentimentLabel
from raxx.idempotency import idempotency_keys_purge
from raxx.models import IdempotencyKey
from wcb.models import ClosedPosition

pytestmark = pytest.mark.django_db
ORDER = {"symbol": "AAPL", "side": "buy", "quantity": "2", "entry_price": "10.5"}
CLOSE = {"symbol": "AAPL", "asset_type": "equity", "quantity": "1", "cost_basis": "100", "close_price": "110",
         "closed_at": "2026-11-20T20:00:00Z"}


def post(client, path, body, key=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(path, body, format="json", **headers, **extra)


def test_same_key_and_body_replays_the_first_response_and_writes_nothing(api, customer):
    first = post(api, "/api/paper-orders", ORDER, key="order-1")
    again = post(api, "/api/paper-orders", ORDER, key="order-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert PaperOrder.objects.filter(customer=customer).count() == 1
    assert post(api, "/api/paper-orders", dict(reversed(list(ORDER.items()))), key="order-1").status_code == 201
    assert PaperOrder.objects.filter(customer=customer).count() == 1  # key order of the JSON does not matter


def test_without_a_key_nothing_changes(api, customer):
    post(api, "/api/paper-orders", ORDER)
    post(api, "/api/paper-orders", ORDER)
    assert PaperOrder.objects.filter(customer=customer).count() == 2
    assert not IdempotencyKey.objects.exists()


def test_same_key_with_another_body_is_422(api, customer):
    post(api, "/api/paper-orders", ORDER, key="k")
    response = post(api, "/api/paper-orders", {**ORDER, "quantity": "3"}, key="k")
    assert response.status_code == 422 and response.json()["error"] == "idempotency_key_reused"
    close = post(api, f"/api/paper-orders/{PaperOrder.objects.get().id}/close", {"exit_price": "11"}, key="k")
    assert close.status_code == 422  # another route is another request
    assert PaperOrder.objects.get().status == "open"


def test_a_key_in_flight_is_409(api, customer):
    post(api, "/api/paper-orders", ORDER, key="busy")
    IdempotencyKey.objects.update(response_status=None, response_body=None)  # as while the first one runs
    response = post(api, "/api/paper-orders", ORDER, key="busy")
    assert response.status_code == 409 and response.json()["error"] == "idempotency_key_in_use"
    assert PaperOrder.objects.count() == 1


def test_a_claim_abandoned_by_a_dead_worker_is_taken_over(api, customer):
    IdempotencyKey.objects.create(customer=customer, key="stale", fingerprint="0" * 64,
                                  created_at=timezone.now() - timedelta(minutes=10))
    assert post(api, "/api/paper-orders", ORDER, key="stale").status_code == 201
    assert PaperOrder.objects.count() == 1


def test_keys_are_scoped_per_customer(api, other_api, customer, other_customer):
    mine = post(api, "/api/paper-orders", ORDER, key="shared")
    theirs = post(other_api, "/api/paper-orders", ORDER, key="shared")
    assert mine.status_code == theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert mine.json()["order"]["id"] != theirs.json()["order"]["id"]
    assert PaperOrder.objects.filter(customer=other_customer).count() == 1


@pytest.mark.parametrize("key", ["", "a" * 256, "with space", "caf\u00e9", "tab\there"])
def test_a_bad_key_is_400_and_runs_nothing(api, key):
    response = post(api, "/api/paper-orders", ORDER, key=key)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert "Idempotency-Key" in response.json()["detail"]
    assert not PaperOrder.objects.exists()


def test_the_longest_key_and_every_visible_character_work(api):
    assert post(api, "/api/paper-orders", ORDER, key="k" * 255).status_code == 201
    assert post(api, "/api/paper-orders", ORDER, key="".join(map(chr, range(0x21, 0x7F)))).status_code == 201


def test_a_validation_error_does_not_use_up_the_key(api):
    assert post(api, "/api/paper-orders", {**ORDER, "quantity": "-1"}, key="fix-me").status_code == 400
    assert post(api, "/api/paper-orders", ORDER, key="fix-me").status_code == 201
    assert PaperOrder.objects.count() == 1


def test_a_business_refusal_is_recorded_and_replayed(api, other_api):
    theirs = post(other_api, "/api/paper-orders", ORDER).json()["order"]["id"]
    first = post(api, f"/api/paper-orders/{theirs}/close", {"exit_price": "11"}, key="close-x")
    again = post(api, f"/api/paper-orders/{theirs}/close", {"exit_price": "11"}, key="close-x")
    assert first.status_code == again.status_code == 404 and again["Idempotent-Replayed"] == "true"


def test_close_is_replayed_not_run_twice(api, customer):
    order_id = post(api, "/api/paper-orders", ORDER).json()["order"]["id"]
    first = post(api, f"/api/paper-orders/{order_id}/close", {"exit_price": "12"}, key="close-1")
    again = post(api, f"/api/paper-orders/{order_id}/close", {"exit_price": "12"}, key="close-1")
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    without_key = post(api, f"/api/paper-orders/{order_id}/close", {"exit_price": "12"})
    assert without_key.status_code != 200  # the order is closed once; only the keyed retry replays


def test_close_position_and_sentiment_labels_take_keys(api, customer, flags):
    order_id = post(api, "/api/paper-orders", ORDER).json()["order"]["id"]
    flags.on("FLAG_SENTIMENT_JOURNAL")
    first = post(api, "/api/trading/close-position", CLOSE, key="pos-1")
    again = post(api, "/api/trading/close-position", CLOSE, key="pos-1")
    assert first.status_code == 201 and again.status_code == 201 and again.json() == first.json()
    assert ClosedPosition.objects.filter(customer=customer).count() == 1
    label = {"trade_id": order_id, "pre_label": "Bullish"}
    first = post(api, "/api/sentiment-labels", label, key="label-1")
    again = post(api, "/api/sentiment-labels", label, key="label-1")
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert TradeSentimentLabel.objects.filter(customer=customer).count() == 1


def test_after_24_hours_a_key_is_new_and_the_purge_deletes_it(api, customer):
    post(api, "/api/paper-orders", ORDER, key="old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    assert "Idempotent-Replayed" not in post(api, "/api/paper-orders", ORDER, key="old")
    assert PaperOrder.objects.count() == 2
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_keys_purge() == 1 and not IdempotencyKey.objects.exists()


def test_the_purge_is_a_declared_periodic_job():
    from raxx.periodic import declared_jobs

    assert "raxx.tasks.purge_idempotency_keys" in {job.task for job in declared_jobs()}


def test_merge_drops_and_erasure_deletes_the_secondarys_keys(customer, other_customer):
    from raxx.customer_data import OnMerge, rule_for

    rule = rule_for(IdempotencyKey, "customer")
    assert rule.on_merge == OnMerge.DELETE and rule.erase


def test_the_schema_declares_the_header_and_the_409_422(api):
    schema = api.get("/api/schema").json()
    for path in ("/api/paper-orders", "/api/paper-orders/{id}/close", "/api/trading/close-position",
                 "/api/sentiment-labels"):
        operation = schema["paths"][path]["post"]
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"]), path
        assert {"409", "422"} <= set(operation["responses"]), path


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_parallel_requests_with_one_key_write_one_row(api_for, customer):
    from rest_framework.test import APIClient

    token = api_for(customer)._credentials["HTTP_AUTHORIZATION"]

    def attempt():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        response = client.post("/api/paper-orders", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="race-1")
        return response.status_code, response.json()

    results = concurrently(attempt, 20)
    assert PaperOrder.objects.filter(customer=customer).count() == 1
    assert IdempotencyKey.objects.filter(customer=customer, key="race-1").count() == 1
    created = [body for status, body in results if status == 201]
    assert created and all(body == created[0] for body in created)
    assert {status for status, _ in results} <= {201, 409}
    assert all(body["error"] == "idempotency_key_in_use" for status, body in results if status == 409)
    assert post(api_for(customer), "/api/paper-orders", ORDER, key="race-1").json() == created[0]
