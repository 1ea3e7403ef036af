"""WCB test helpers: a private market-data fixtures dir, positions, job runs."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from wcb import calendar as nyse
from wcb import market_data
from wcb.services import closed_position_record

# A close at 18:00 UTC on Wednesday 2026-04-15 (14:00 ET, before the 16:00 close).
CLOSED_AT = datetime(2026, 4, 15, 18, 0, tzinfo=UTC)


def close_for(session: date) -> Decimal:
    """ACME's raw close on a session: 100 + the session's index from 2026-04-01."""
    return Decimal(100 + len(nyse.sessions_between(date(2026, 4, 1), session)))


class Market:
    def __init__(self, path):
        self.path = path

    def write(self, symbol: str, *, start=date(2026, 3, 2), end=date(2026, 6, 30), actions=(), skip=(), price=None):
        bars = []
        for d in nyse.sessions_between(start, end):
            if d in skip:
                continue
            close = price(d) if price else close_for(d)
            bars.append({"date": d.isoformat(), "open": str(close - 1), "high": str(close + 1),
                         "low": str(close - 2), "close": str(close), "volume": 1000})
        doc = {"symbol": symbol, "bars": bars, "corporate_actions": list(actions)}
        (self.path / f"{symbol}.json").write_text(json.dumps(doc))


@pytest.fixture
def market(tmp_path, settings):
    settings.MARKET_DATA_PROVIDER = "fixture"
    settings.MARKET_DATA_FIXTURES_DIR = str(tmp_path)
    m = Market(tmp_path)
    m.write("ACME")
    return m


@pytest.fixture
def record(customer):
    """record(tier="pro_plus", **overrides) → a ClosedPosition via the service the journal calls."""

    def make(tier="pro_plus", who=None, **overrides):
        fields = dict(symbol="ACME", asset_type="equity", quantity=Decimal("10"), cost_basis=Decimal("90"),
                      close_price=Decimal("110"), close_commission=Decimal("1"), multiplier=1, closed_at=CLOSED_AT)
        fields.update(overrides)
        return closed_position_record(customer=who or customer, tier=tier, **fields)

    return make


def as_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)


@pytest.fixture
def fetches(monkeypatch):
    """Counts provider fetches per symbol (the real fixture provider still answers)."""
    calls = []
    real = market_data.get_market_data

    def counting(symbol, start, end, **kwargs):
        calls.append(symbol)
        return real(symbol, start, end, **kwargs)

    monkeypatch.setattr(market_data, "get_market_data", counting)
    return calls
