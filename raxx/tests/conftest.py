"""Fixtures for the accounts tests: a customer holding a row of every kind of registered data."""

import pytest

from conftest import make_customer
from raxx.tests.accounts_testapp.models import (
    Draft, Label, Order, PaperTrade, Position, Progress, Receipt, Setting, Snapshot)


def fill_account(customer, *, orders=2, trade_ids=(1, 2), program="beta", horizon="close_of_market_only"):
    """Give ``customer`` rows in every test table (and owned cascade rows). Returns nothing: query the tables."""
    for i in range(orders):
        Order.objects.create(customer=customer, symbol=f"SYM{i}")
    for trade_id in trade_ids:
        Label.objects.create(customer=customer, trade_id=trade_id, pre_label="Bullish")
    position = Position.objects.create(customer=customer, symbol="AAPL")
    Snapshot.objects.create(position=position, user_id=customer.pk)
    Setting.objects.create(customer=customer, tracking_horizon=horizon)
    progress = Progress.objects.create(tester_email=customer.email, program=program)
    PaperTrade.objects.create(progress=progress, strategy_type="covered_call")
    Draft.objects.create(customer=customer, body="scratch")
    Receipt.objects.create(customer=customer, amount="9.99")


@pytest.fixture
def primary(db):
    return make_customer("primary@example.test")


@pytest.fixture
def secondary(db):
    return make_customer("secondary@example.test")
