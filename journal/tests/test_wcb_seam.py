"""Closing a paper order records a closed position for What Could've Been (CONTRACTS §4)."""

from decimal import Decimal

import pytest

from journal.models import PaperOrder
from journal.tests.conftest import make_order
from wcb.models import ClosedPosition, WcbSnapshot


@pytest.mark.parametrize("side, signed_quantity", [("buy", Decimal("10")), ("sell", Decimal("-10"))])
def test_closing_a_paper_order_records_a_tracked_position_for_paid_tiers(api_for, customer, side, signed_quantity):
    order = make_order(customer, side=side, quantity="10", entry="100")
    response = api_for(customer, "pro").post(f"/api/paper-orders/{order.id}/close", {"exit_price": "110"},
                                             format="json")
    assert response.status_code == 200
    position = ClosedPosition.objects.get(customer=customer)
    assert (position.symbol, position.quantity, position.cost_basis, position.close_price) == (
        "AAPL", signed_quantity, Decimal("100"), Decimal("110"))
    assert position.closed_at == PaperOrder.objects.get(pk=order.pk).closed_at
    snapshot = WcbSnapshot.objects.get(position=position)
    assert snapshot.user_id == customer.id and snapshot.tracking_horizon == "close_of_market_only"
    assert response.json()["order"]["position_id"] == str(position.id)
    assert api_for(customer, "pro").get(f"/api/paper-orders/{order.id}").json()["order"]["position_id"] == str(
        position.id)


@pytest.mark.parametrize("tier", ["free", None])
def test_free_and_tierless_closes_record_the_position_but_no_snapshot(api_for, customer, tier):
    order = make_order(customer)
    assert api_for(customer, tier).post(f"/api/paper-orders/{order.id}/close", {"exit_price": "90"},
                                        format="json").status_code == 200
    assert ClosedPosition.objects.filter(customer=customer).count() == 1
    assert not WcbSnapshot.objects.exists()


def test_a_failed_close_records_nothing(api, customer):
    order = make_order(customer, exit="105")  # already closed
    assert api.post(f"/api/paper-orders/{order.id}/close", {"exit_price": "90"}, format="json").status_code == 409
    assert not ClosedPosition.objects.exists()


def test_a_paper_trade_too_large_for_wcb_still_closes(api, customer):
    order = make_order(customer, quantity="1000000", entry="500")
    assert api.post(f"/api/paper-orders/{order.id}/close", {"exit_price": "501"}, format="json").status_code == 200
    assert PaperOrder.objects.get(pk=order.pk).status == "closed"
    assert not ClosedPosition.objects.exists()
