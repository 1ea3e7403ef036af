"""The offline fixture provider and the fixture files shipped in wcb/fixtures/market_data."""

import importlib.util
import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from wcb import calendar as nyse
from wcb.market_data import Bar, CorporateAction, get_market_data
from wcb.market_data.fixture import FixtureProvider

SHIPPED = Path(__file__).resolve().parents[1] / "fixtures" / "market_data"
SYMBOLS = {"AAPL", "MSFT", "SPY", "NVDA", "KO", "HON", "XGAP"}
YEAR = (date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture
def shipped(settings):
    settings.MARKET_DATA_PROVIDER = "fixture"
    settings.MARKET_DATA_FIXTURES_DIR = str(SHIPPED)
    return FixtureProvider(SHIPPED)


def test_the_default_setting_points_at_the_shipped_files():
    from django.conf import settings

    assert Path(settings.MARKET_DATA_FIXTURES_DIR).resolve() == SHIPPED


def test_shipped_symbols_cover_2026_on_real_sessions(shipped):
    assert set(shipped.symbols()) == SYMBOLS
    sessions = nyse.sessions_between(*YEAR)
    # 2026: 261 weekdays − 10 weekday holidays (Jan 1, Jan 19, Feb 16, Apr 3, May 25, Jun 19, Jul 3,
    # Sep 7, Nov 26, Dec 25) = 251 sessions
    assert len(sessions) == 251
    for symbol in SYMBOLS - {"XGAP"}:
        bars = shipped.get_bars(symbol, *YEAR)
        assert [b.date for b in bars] == sessions, symbol
        for b in bars:
            assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high and b.volume > 0
        for action in shipped.get_corporate_actions(symbol, *YEAR):
            assert nyse.is_session(action.ex_date), (symbol, action)


def test_shipped_corporate_actions(shipped):
    nvda = shipped.get_corporate_actions("NVDA", *YEAR)
    assert CorporateAction("split", date(2026, 6, 10), old_rate=D(1), new_rate=D(4)) in nvda
    # the raw prices really split: the 06-10 close is about a quarter of the 06-09 close
    before, after = shipped.get_bars("NVDA", date(2026, 6, 9), date(2026, 6, 10))
    assert D("0.2") < after.close / before.close < D("0.3")
    dividends = [a for s in SYMBOLS for a in shipped.get_corporate_actions(s, *YEAR) if a.ca_type == "dividend"]
    assert len(dividends) >= 10
    assert CorporateAction("dividend", date(2026, 11, 30), cash_amount=D("0.53")) in shipped.get_corporate_actions("KO", *YEAR)
    assert any(a.ca_type == "spinoff" for a in shipped.get_corporate_actions("HON", *YEAR))


def test_the_gap_symbol_is_a_gap(shipped):
    have = {b.date for b in shipped.get_bars("XGAP", *YEAR)}
    missing = [d for d in nyse.sessions_between(*YEAR) if d not in have]
    assert missing == nyse.sessions_between(date(2026, 4, 6), date(2026, 4, 17)) + [date(2026, 8, 20), date(2026, 9, 30)]


def test_get_market_data_reads_the_fixtures(shipped):
    md = get_market_data("ko", date(2026, 11, 23), date(2026, 11, 30))
    assert md.symbol == "KO" and md.source == "fixture"
    assert [b.date for b in md.bars] == nyse.sessions_between(date(2026, 11, 23), date(2026, 11, 30))
    assert [a.ex_date for a in md.actions] == [date(2026, 11, 30)]
    assert all(isinstance(b, Bar) for b in md.bars)


def test_unknown_or_unsafe_symbols_have_no_data(shipped):
    assert get_market_data("ZZZZ", *YEAR).bars == ()
    assert shipped.get_bars("../../raxx/settings", *YEAR) == []
    assert shipped.get_bars("", *YEAR) == []
    assert get_market_data("KO", date(2026, 5, 2), date(2026, 5, 1)).bars == ()  # empty range


def test_fixture_format_as_pinned(tmp_path, settings):
    settings.MARKET_DATA_FIXTURES_DIR = str(tmp_path)
    (tmp_path / "ABC.json").write_text(json.dumps({
        "symbol": "ABC",
        "bars": [{"date": "2026-04-15", "open": "10.5", "high": "11", "low": "10", "close": "10.75", "volume": 123}],
        "corporate_actions": [{"ca_type": "dividend", "ex_date": "2026-05-09", "cash_amount": "0.25"},
                              {"ca_type": "split", "ex_date": "2026-06-10", "old_rate": 1, "new_rate": 4},
                              {"ca_type": "spinoff", "ex_date": "2026-06-20"}],
    }))
    md = get_market_data("ABC", *YEAR)
    assert md.bars == (Bar(date(2026, 4, 15), D("10.5"), D("11"), D("10"), D("10.75"), 123),)
    assert md.actions == (
        CorporateAction("dividend", date(2026, 5, 9), cash_amount=D("0.25")),
        CorporateAction("split", date(2026, 6, 10), old_rate=D(1), new_rate=D(4)),
        CorporateAction("spinoff", date(2026, 6, 20)),
    )


def test_shipped_files_match_the_generator_and_stay_small():
    spec = importlib.util.spec_from_file_location("gen", SHIPPED.parent / "generate_market_data.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for symbol, params in gen.SYMBOLS.items():
        assert json.loads((SHIPPED / f"{symbol}.json").read_text()) == gen.build(symbol, params), symbol
    assert sum(p.stat().st_size for p in SHIPPED.glob("*.json")) < 1_500_000
