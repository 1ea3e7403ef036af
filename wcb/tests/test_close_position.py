from decimal import Decimal

import pytest

from raxx.models import Customer
from wcb.models import ClosedPosition, WcbSetting, WcbSnapshot

URL = "/api/trading/close-position"
BODY = {"symbol": "aapl", "asset_type": "equity", "quantity": "50", "cost_basis": "170.12", "close_price": "182.34",
        "closed_at": "2026-04-15T19:45:00Z"}


def test_pro_plus_close_writes_position_and_snapshot(api, customer):
    response = api.post(URL, {**BODY, "close_commission": "1.5"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["wcb_tracking"] is True and body["tracking_horizon"] == "close_of_market_only"
    assert body["symbol"] == "AAPL" and body["close_price"] == "182.340000" and body["closed_at"] == "2026-04-15T19:45:00Z"
    snap = WcbSnapshot.objects.get(position_id=body["position_id"])
    assert snap.user_id == customer.id and snap.symbol == "AAPL"
    assert snap.position_size_signed == Decimal("50") and snap.close_commission == Decimal("1.5")
    assert snap.actual_pnl == Decimal("609.5")  # (182.34 − 170.12) × 50 − 1.5
    assert snap.horizon_reached is False and snap.horizon_price is None and snap.would_have_pnl is None


@pytest.mark.parametrize("tier", ["free", None])
def test_free_or_tierless_close_writes_no_snapshot(api_for, customer, tier):
    response = api_for(customer, tier).post(URL, BODY, format="json")
    assert response.status_code == 201
    assert response.json()["wcb_tracking"] is False
    assert ClosedPosition.objects.filter(customer=customer).count() == 1
    assert not WcbSnapshot.objects.exists()


def test_snapshot_uses_the_callers_horizon_within_the_tier(api_for, customer):
    WcbSetting.objects.create(customer=customer, tracking_horizon="monthly")
    assert api_for(customer, "pro_plus").post(URL, BODY, format="json").json()["tracking_horizon"] == "monthly"
    # A pro token (e.g. after a downgrade) never gets a monthly snapshot.
    assert api_for(customer, "pro").post(URL, BODY, format="json").json()["tracking_horizon"] == "close_of_market_only"
    assert sorted(WcbSnapshot.objects.values_list("tracking_horizon", flat=True)) == ["close_of_market_only", "monthly"]


def test_short_positions_and_options_are_accepted(api):
    short = api.post(URL, {**BODY, "quantity": "-5"}, format="json")
    option = api.post(URL, {**BODY, "asset_type": "call", "quantity": "2", "multiplier": 100}, format="json")
    assert short.status_code == option.status_code == 201
    assert WcbSnapshot.objects.get(position_id=short.json()["position_id"]).position_size_signed == Decimal("-5")
    assert WcbSnapshot.objects.get(position_id=option.json()["position_id"]).multiplier == 100


@pytest.mark.parametrize("change", [
    {"asset_type": "future"}, {"asset_type": None}, {"quantity": "0"}, {"quantity": "abc"}, {"quantity": "NaN"},
    {"quantity": "Infinity"}, {"cost_basis": "ten"}, {"cost_basis": "-1"}, {"close_price": "0"}, {"close_price": ""},
    {"close_price": [1]}, {"close_commission": "-1"}, {"multiplier": 0}, {"multiplier": "x"}, {"closed_at": "yesterday"},
    {"closed_at": "2026-13-45T00:00:00Z"}, {"closed_at": "2999-01-01T00:00:00Z"}, {"closed_at": "1999-01-01T00:00:00Z"},
    {"symbol": ""}, {"symbol": "A" * 17}, {"symbol": "AA PL"}, {"quantity": "1.123456789"},
    {"close_price": "12345678901234"}, {"quantity": "99999999", "close_price": "999999"},
    {"quantity": "1000", "multiplier": 100000}, {"quantity": True}, {"multiplier": 1.5}, {"closed_at": 1700000000},
    {"closed_at": None}, {"close_commission": "abc"}, {"symbol": None},
])
def test_bad_input_is_a_400_and_writes_nothing(api, change):
    body = {k: v for k, v in {**BODY, **change}.items()}
    response = api.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"
    assert not ClosedPosition.objects.exists() and not WcbSnapshot.objects.exists()


@pytest.mark.parametrize("missing", ["symbol", "asset_type", "quantity", "cost_basis", "close_price"])
def test_required_fields(api, missing):
    body = {k: v for k, v in BODY.items() if k != missing}
    assert api.post(URL, body, format="json").status_code == 400


def test_malformed_json_and_non_object_bodies_are_400(api):
    assert api.post(URL, "{not json", content_type="application/json").status_code == 400
    assert api.post(URL, [1, 2], format="json").status_code == 400


def test_needs_a_token(client, db):
    assert client.post(URL, BODY, content_type="application/json").status_code == 401


def test_deleting_a_position_removes_its_snapshot(api):
    position_id = api.post(URL, BODY, format="json").json()["position_id"]
    ClosedPosition.objects.filter(pk=position_id).delete()
    assert not WcbSnapshot.objects.filter(position_id=position_id).exists()


def test_erasing_a_customer_removes_positions_and_snapshots(api, customer):
    api.post(URL, BODY, format="json")
    Customer.objects.filter(pk=customer.pk).delete()
    assert not ClosedPosition.objects.exists() and not WcbSnapshot.objects.exists()


def test_query_count_is_bounded(api, django_assert_max_num_queries):
    for _ in range(3):
        api.post(URL, BODY, format="json")
    with django_assert_max_num_queries(7):
        assert api.post(URL, BODY, format="json").status_code == 201


def test_openapi_schema_lists_the_wcb_routes(client, db):
    schema = client.get("/api/schema").content.decode()
    for route in ("/api/trading/close-position", "/api/positions/{position_id}/what-could-have-been",
                  "/api/account/settings/wcb"):
        assert route in schema


def test_the_service_refuses_numbers_the_columns_cannot_hold(customer):
    from raxx.errors import ApplicationError
    from wcb.services import closed_position_record

    with pytest.raises(ApplicationError):
        closed_position_record(customer=customer, tier="pro", symbol="ACME", asset_type="equity",
                               quantity=Decimal("99999999"), cost_basis=Decimal("1"), close_price=Decimal("999999"))
    with pytest.raises(ApplicationError):
        closed_position_record(customer=customer, tier="pro", symbol="ACME", asset_type="future",
                               quantity=Decimal("1"), cost_basis=Decimal("1"), close_price=Decimal("2"))
    assert not ClosedPosition.objects.exists()


def test_the_journal_seam_records_like_the_route(customer):
    """closed_position_record is what closing a paper order calls (CONTRACTS §4)."""
    from datetime import datetime

    from wcb.services import closed_position_record

    free = closed_position_record(customer=customer, tier="free", symbol="aapl", asset_type="equity",
                                  quantity=Decimal("2"), cost_basis=Decimal("10"), close_price=Decimal("11"))
    paid = closed_position_record(customer=customer, tier="pro", symbol="AAPL", asset_type="equity",
                                  quantity=Decimal("-2"), cost_basis=Decimal("10"), close_price=Decimal("11"),
                                  closed_at=datetime(2026, 4, 15, 18, 0))  # naive: taken as UTC
    assert (free.wcb_tracking, paid.wcb_tracking) == (False, True)
    snap = WcbSnapshot.objects.get(position=paid)
    assert snap.close_timestamp_utc.isoformat() == "2026-04-15T18:00:00+00:00"
    assert snap.actual_pnl == Decimal("-2") and free.symbol == "AAPL"


def test_trailing_zeros_are_not_extra_precision(api):
    response = api.post(URL, {**BODY, "quantity": "50.000000", "cost_basis": "170.1200000000", "close_price": 182.34},
                        format="json")
    assert response.status_code == 201, response.content
    assert response.json()["quantity"] == "50.0000" and response.json()["cost_basis"] == "170.120000"
