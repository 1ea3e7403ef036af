"""Issue 6's headline invariant, end to end across the real apps: after a merge
every row the secondary had is reachable by the primary through the API, the
WCB jobs still finalize re-attributed pending rows, and the secondary's token
stops working."""

from datetime import UTC, datetime

import pytest

from raxx.dsr import customer_row_ids
from raxx.tests.helpers import consented_merge
from wcb import jobs

CLOSED_AT = "2026-04-15T18:00:00Z"  # before the close of Wed 2026-04-15; AAPL is in the shipped fixtures


@pytest.fixture
def features_on(flags, settings):
    settings.MARKET_DATA_PROVIDER = "fixture"
    flags.on("FLAG_SENTIMENT_JOURNAL")
    flags.on("FLAG_WCB_ENABLED")


def _fill(api) -> dict:
    order = api.post("/api/paper-orders", {"symbol": "MSFT", "side": "buy", "quantity": "5", "entry_price": "400",
                                           "pre_label": "Bullish"}, format="json").json()
    assert api.post(f"/api/paper-orders/{order['order']['id']}/close", {"exit_price": "410"},
                    format="json").status_code == 200
    position = api.post("/api/trading/close-position", {
        "symbol": "AAPL", "asset_type": "equity", "quantity": "10", "cost_basis": "200", "close_price": "210",
        "closed_at": CLOSED_AT}, format="json").json()
    assert api.patch("/api/account/settings/wcb", {"tracking_horizon": "monthly"}, format="json").status_code == 200
    return {"order_id": order["order"]["id"], "label_id": order["sentiment_label"]["id"],
            "position_id": position["position_id"]}


def test_after_a_merge_the_primary_reaches_every_row_of_the_secondary(api_for, customer, other_customer,
                                                                      features_on):
    primary_api, secondary_api = api_for(customer, "pro_plus"), api_for(other_customer, "pro_plus")
    theirs = _fill(secondary_api)
    before = customer_row_ids(other_customer)

    consented_merge(customer, other_customer)

    # The database: every re-attributable row now belongs to the primary.
    after = customer_row_ids(customer)
    for label in ("journal.PaperOrder", "journal.TradeSentimentLabel", "wcb.ClosedPosition", "wcb.WcbSnapshot"):
        assert before[label] and before[label] <= after[label], label

    # The API: the primary sees them; the secondary's token is refused.
    assert theirs["order_id"] in [o["id"] for o in primary_api.get("/api/paper-orders").json()["orders"]]
    assert primary_api.get(f"/api/sentiment-labels/{theirs['label_id']}").status_code == 200
    render = primary_api.get(f"/api/positions/{theirs['position_id']}/what-could-have-been")
    assert render.status_code == 200, render.json()
    assert secondary_api.get("/api/paper-orders").status_code == 401

    # The jobs: the re-attributed pending rows still finalize (revision §4.4).
    summary = jobs.run_manual("eod", now=datetime(2026, 4, 16, 23, 0, tzinfo=UTC))
    assert summary.finalized >= 1
    body = primary_api.get(f"/api/positions/{theirs['position_id']}/what-could-have-been").json()
    assert body["snapshot"]["horizon_reached"] is True


def test_the_primarys_own_setting_wins_over_the_secondarys(api_for, customer, other_customer, features_on):
    api_for(customer, "pro_plus").patch("/api/account/settings/wcb", {"tracking_horizon": "close_of_market_only"},
                                        format="json")
    _fill(api_for(other_customer, "pro_plus"))  # the secondary chose monthly
    consented_merge(customer, other_customer)
    setting = api_for(customer, "pro_plus").get("/api/account/settings/wcb").json()
    assert setting["tracking_horizon"] == "close_of_market_only"


def test_a_merge_moves_the_real_wcb_snapshot_and_touches_its_updated_at(customer, other_customer):
    """Revision §4.2 on the real model: SET user_id = :primary, updated_at = NOW()."""
    from datetime import timedelta
    from decimal import Decimal

    from wcb.models import ClosedPosition, WcbSnapshot

    closed_at = datetime(2026, 4, 15, 15, 0, tzinfo=UTC)
    position = ClosedPosition.objects.create(customer=other_customer, symbol="AAPL", quantity=Decimal(10),
                                             cost_basis=Decimal(100), close_price=Decimal(101), closed_at=closed_at)
    before = datetime(2026, 4, 15, 16, 0, tzinfo=UTC)
    snapshot = WcbSnapshot.objects.create(
        position=position, user_id=other_customer.pk, symbol="AAPL", tracking_horizon="close_of_market_only",
        close_timestamp_utc=closed_at, close_price=Decimal(101), cost_basis=Decimal(100),
        position_size_signed=Decimal(10), updated_at=before)
    consented_merge(customer, other_customer)
    snapshot.refresh_from_db()
    assert snapshot.user_id == customer.pk
    assert snapshot.updated_at > before + timedelta(days=1)
