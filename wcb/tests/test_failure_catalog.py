"""Design revision §12 (failure modes catalog) at job time, with Alpaca mocked at the
HTTP layer, and §5.2: Alpha Vantage is never called on the render path.

Each path asserts the log level, that the row stays pending (or is skipped), and that
no customer data reaches the log."""

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import responses

from wcb import calendar as nyse
from wcb import jobs
from wcb.models import WcbSnapshot

from .conftest import as_of, close_for

APR15, APR16 = datetime(2026, 4, 15).date(), datetime(2026, 4, 16).date()
CA_URL = "https://data.alpaca.markets/v1/corporate-actions"
AV_URL = "https://www.alphavantage.co/query"


def bars_url(symbol: str) -> str:
    return f"https://data.alpaca.markets/v2/stocks/{symbol}/bars"


@pytest.fixture
def alpaca(settings):
    settings.MARKET_DATA_PROVIDER = "alpaca"
    settings.ALPACA_API_KEY, settings.ALPACA_SECRET_KEY = "key-id", "secret"
    settings.ALPHA_VANTAGE_API_KEY = ""
    with responses.RequestsMock() as mock:  # any request not registered here fails
        yield mock


def serve(mock, symbol: str, sessions, *, dividend_ex=None):
    bars = [{"t": f"{d.isoformat()}T12:00:00Z", "o": float(close_for(d)), "h": float(close_for(d)) + 1,
             "l": float(close_for(d)) - 1, "c": float(close_for(d)), "v": 1000, "n": 1, "vw": 1.0} for d in sessions]
    mock.get(bars_url(symbol), json={"bars": bars, "symbol": symbol, "next_page_token": None})
    dividends = [] if dividend_ex is None else [
        {"id": "d1", "symbol": symbol, "rate": 0.5, "ex_date": dividend_ex.isoformat(),
         "process_date": dividend_ex.isoformat(), "record_date": dividend_ex.isoformat(),
         "payable_date": dividend_ex.isoformat()}]
    mock.get(CA_URL, json={"corporate_actions": {"cash_dividends": dividends}, "next_page_token": None})


def records_at(caplog, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("wcb") and r.levelno == level]


def assert_no_customer_data(caplog, customer):
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert customer.email not in text and str(customer.id) not in text and customer.id.hex not in text


def test_provider_5xx_at_job_time_logs_error_and_the_row_stays_pending(alpaca, record, customer, caplog):
    record()
    alpaca.get(bars_url("ACME"), json={"message": "internal error"}, status=503)
    with caplog.at_level(logging.INFO, logger="wcb"):
        summary = jobs.run_manual("eod", now=as_of(APR15))
    assert (summary.finalized, summary.failed) == (0, 1)
    (error,) = [r for r in records_at(caplog, logging.ERROR) if "market data unavailable" in r.getMessage()]
    assert "ACME" in error.getMessage() and "HTTP 503" in error.getMessage()
    assert WcbSnapshot.objects.get().horizon_reached is False
    assert_no_customer_data(caplog, customer)


def test_a_held_dividend_logs_a_warning_naming_the_row_and_the_ex_date(alpaca, record, customer, caplog):
    record(closed_at=datetime(2026, 4, 14, 21, 0, tzinfo=UTC))  # after the 14th's close: the 15th is its horizon
    snapshot = WcbSnapshot.objects.get()
    serve(alpaca, "ACME", [APR15], dividend_ex=APR15)
    with caplog.at_level(logging.INFO, logger="wcb"):
        summary = jobs.run_manual("eod", now=as_of(APR15))
    assert (summary.finalized, summary.pending) == (0, 1)
    (warning,) = records_at(caplog, logging.WARNING)
    assert str(snapshot.id) in warning.getMessage() and "2026-04-15" in warning.getMessage()
    assert "held" in warning.getMessage()
    assert not records_at(caplog, logging.ERROR)
    assert WcbSnapshot.objects.get().horizon_reached is False
    assert_no_customer_data(caplog, customer)

    alpaca.reset()
    serve(alpaca, "ACME", [APR15, APR16], dividend_ex=APR15)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="wcb"):
        assert jobs.run_manual("eod", now=as_of(APR16)).finalized == 1  # T+1: the lag is satisfied
    assert not records_at(caplog, logging.WARNING)
    snap = WcbSnapshot.objects.get()
    assert snap.horizon_reached and snap.dividends_in_window == Decimal("0.5")


def test_no_next_trading_day_skips_the_row_with_an_error(alpaca, record, customer, caplog):
    last = nyse._cal().dates[-1]  # the calendar's last session: nothing comes after it
    # closed after the close of the session before it: ``last`` is its first session and horizon
    record(closed_at=nyse.session_close_utc(nyse.previous_session(last)) + timedelta(hours=1))
    other = record(symbol="OTHR", closed_at=datetime(2026, 4, 15, 18, 0, tzinfo=UTC))
    snapshot = WcbSnapshot.objects.get(symbol="ACME")
    serve(alpaca, "ACME", [last], dividend_ex=last)  # the lag rule needs the session after the horizon
    serve(alpaca, "OTHR", [APR15])
    with caplog.at_level(logging.INFO, logger="wcb"):
        summary = jobs.run_manual("eod", now=as_of(last))
    assert (summary.finalized, summary.failed) == (1, 1)  # the other row is not held back by it
    errors = [r for r in records_at(caplog, logging.ERROR) if "no next trading day" in r.getMessage()]
    assert len(errors) == 1 and str(snapshot.id) in errors[0].getMessage() and errors[0].exc_info is None
    assert WcbSnapshot.objects.get(pk=snapshot.pk).horizon_reached is False
    assert WcbSnapshot.objects.get(position=other).horizon_reached is True
    assert_no_customer_data(caplog, customer)


# --- §5.2: the render path never spends the Alpha Vantage quota ------------------------------

def test_render_path_does_not_fall_back_to_alpha_vantage(alpaca, settings, record, flags, api):
    flags.on("FLAG_WCB_ENABLED")
    settings.ALPHA_VANTAGE_API_KEY = "av-key"
    position = record()  # pending: nothing cached, the render must fetch
    alpaca.get(bars_url("ACME"), status=503)
    av = alpaca.get(AV_URL, json={})
    response = api.get(f"/api/positions/{position.id}/what-could-have-been")
    assert response.status_code == 503 and response.json()["error"] == "market_data_unavailable"
    assert av.call_count == 0
    alpaca.assert_all_requests_are_fired = False


def test_jobs_still_fall_back_to_alpha_vantage(alpaca, settings, record):
    settings.ALPHA_VANTAGE_API_KEY = "av-key"
    record()
    alpaca.get(bars_url("ACME"), status=503)
    day = {"1. open": "120", "2. high": "121", "3. low": "119", "4. close": "120.5", "5. adjusted close": "120.5",
           "6. volume": "1000", "7. dividend amount": "0.0000", "8. split coefficient": "1.0"}
    av = alpaca.get(AV_URL, json={"Meta Data": {"2. Symbol": "ACME"}, "Time Series (Daily)": {"2026-04-15": day}})
    assert jobs.run_manual("eod", now=as_of(APR15)).finalized == 1
    assert av.call_count == 1 and WcbSnapshot.objects.get().data_source == "alpha_vantage"
