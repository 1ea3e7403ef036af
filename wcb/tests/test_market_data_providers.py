"""Remote providers against recorded-shape JSON, with HTTP-level mocks (``responses``).

No network: ``responses`` fails any request that is not mocked.
Shapes: Alpaca market data v2 bars and v1 corporate actions; Alpha Vantage
TIME_SERIES_DAILY_ADJUSTED (see the provider modules' docstrings for the sources).
"""

from datetime import date
from decimal import Decimal as D

import pytest
import requests
import responses
from responses import matchers

from wcb.market_data import Bar, CorporateAction, MarketDataUnavailable, get_market_data, get_provider
from wcb.market_data.alpaca import AlpacaProvider
from wcb.market_data.alpha_vantage import AlphaVantageProvider

BARS_URL = "https://data.alpaca.markets/v2/stocks/AAPL/bars"
CA_URL = "https://data.alpaca.markets/v1/corporate-actions"
AV_URL = "https://www.alphavantage.co/query"


def alpaca_bar(t, o, h, low, c, v):
    return {"t": t, "o": o, "h": h, "l": low, "c": c, "v": v, "n": 1234, "vw": (o + c) / 2}


PAGE_1 = {
    "bars": [
        alpaca_bar("2026-04-14T04:00:00Z", 180.1, 182.0, 179.5, 181.25, 51000000),
        alpaca_bar("2026-04-15T04:00:00Z", 181.3, 186.0, 181.0, 185.62, 62000000),
    ],
    "symbol": "AAPL",
    "next_page_token": "QUFQTHxEfDIwMjYtMDQtMTVUMDQ6MDA6MDAuMDAwMDAwMDAwWg==",
}
PAGE_2 = {
    "bars": [alpaca_bar("2026-04-16T04:00:00Z", 185.0, 187.5, 184.2, 186.9, 48000000)],
    "symbol": "AAPL",
    "next_page_token": None,
}
CORPORATE_ACTIONS = {
    "corporate_actions": {
        "cash_dividends": [
            {"id": "a1", "symbol": "AAPL", "cusip": "037833100", "rate": 0.26, "special": False, "foreign": False,
             "process_date": "2026-05-14", "ex_date": "2026-05-11", "record_date": "2026-05-11", "payable_date": "2026-05-14"},
            {"id": "a2", "symbol": "MSFT", "rate": 0.91, "ex_date": "2026-05-21", "process_date": "2026-06-11"},
        ],
        "forward_splits": [
            {"id": "s1", "symbol": "AAPL", "new_rate": 4, "old_rate": 1, "process_date": "2026-06-10",
             "ex_date": "2026-06-10", "record_date": "2026-06-09", "payable_date": "2026-06-09"},
        ],
        "reverse_splits": [
            {"id": "s2", "symbol": "AAPL", "new_rate": 1, "old_rate": 10, "ex_date": "2026-09-01", "process_date": "2026-09-01"},
        ],
        "spin_offs": [
            {"id": "p1", "source_symbol": "AAPL", "source_rate": 1, "new_symbol": "APPX", "new_rate": 0.2,
             "process_date": "2026-06-30", "ex_date": "2026-06-30", "record_date": "2026-06-22", "payable_date": "2026-06-29"},
        ],
    },
    "next_page_token": None,
}


def av_body():
    return {
        "Meta Data": {"1. Information": "Daily Time Series with Splits and Dividend Events", "2. Symbol": "AAPL",
                      "3. Last Refreshed": "2026-06-10", "4. Output Size": "Full size", "5. Time Zone": "US/Eastern"},
        "Time Series (Daily)": {
            "2026-06-10": {"1. open": "188.4700", "2. high": "195.7300", "3. low": "187.1500", "4. close": "194.0100",
                           "5. adjusted close": "194.0100", "6. volume": "86760702", "7. dividend amount": "0.0000",
                           "8. split coefficient": "4.0"},
            "2026-06-09": {"1. open": "760.1500", "2. high": "768.1500", "3. low": "750.4700", "4. close": "755.2300",
                           "5. adjusted close": "188.8075", "6. volume": "41026042", "7. dividend amount": "0.2600",
                           "8. split coefficient": "1.0"},
            "2026-06-08": {"1. open": "750.0000", "2. high": "761.0000", "3. low": "748.0000", "4. close": "758.0000",
                           "5. adjusted close": "189.5000", "6. volume": "40000000", "7. dividend amount": "0.0000",
                           "8. split coefficient": "1.0"},
        },
    }


@pytest.fixture
def alpaca_settings(settings):
    settings.MARKET_DATA_PROVIDER = "alpaca"
    settings.ALPACA_API_KEY = "key-id"
    settings.ALPACA_SECRET_KEY = "secret"
    settings.ALPHA_VANTAGE_API_KEY = ""
    return settings


@pytest.fixture
def provider():
    return AlpacaProvider("key-id", "secret")


# --- Alpaca bars --------------------------------------------------------------------------


@responses.activate
def test_alpaca_bars_follow_page_tokens_with_raw_adjustment(provider):
    first = responses.get(
        BARS_URL,
        json=PAGE_1,
        match=[
            matchers.query_param_matcher(
                {"timeframe": "1Day", "start": "2026-04-14", "end": "2026-04-17", "adjustment": "raw", "feed": "iex", "limit": "10000"}
            ),
            matchers.header_matcher({"APCA-API-KEY-ID": "key-id", "APCA-API-SECRET-KEY": "secret"}),
        ],
    )
    second = responses.get(
        BARS_URL, json=PAGE_2, match=[matchers.query_param_matcher({"page_token": PAGE_1["next_page_token"]}, strict_match=False)]
    )
    bars = provider.get_bars("aapl", date(2026, 4, 14), date(2026, 4, 16))
    assert first.call_count == 1 and second.call_count == 1
    assert [b.date for b in bars] == [date(2026, 4, 14), date(2026, 4, 15), date(2026, 4, 16)]
    assert bars[1] == Bar(date(2026, 4, 15), D("181.3"), D("186.0"), D("181.0"), D("185.62"), 62000000)


@responses.activate
def test_alpaca_bar_timestamps_map_to_new_york_session_dates(provider):
    # an EST-season daily bar is stamped 05:00Z, an EDT one 04:00Z: both are that New York day
    body = {"bars": [alpaca_bar("2026-01-05T05:00:00Z", 1, 1, 1, 1, 1), alpaca_bar("2026-07-06T04:00:00Z", 2, 2, 2, 2, 2)],
            "symbol": "AAPL", "next_page_token": None}
    responses.get(BARS_URL, json=body)
    assert [b.date for b in provider.get_bars("AAPL", date(2026, 1, 1), date(2026, 12, 31))] == [date(2026, 1, 5), date(2026, 7, 6)]


@pytest.mark.parametrize("body", [{"bars": [], "symbol": "AAPL", "next_page_token": None}, {"bars": None, "symbol": "AAPL", "next_page_token": None}])
@responses.activate
def test_alpaca_empty_results(provider, body):
    responses.get(BARS_URL, json=body)
    assert provider.get_bars("AAPL", date(2026, 4, 14), date(2026, 4, 16)) == []


@responses.activate
def test_alpaca_404_is_no_data(provider):
    responses.get(BARS_URL, json={"message": "not found"}, status=404)
    assert provider.get_bars("AAPL", date(2026, 4, 14), date(2026, 4, 16)) == []


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 401, 403])
@responses.activate
def test_alpaca_transient_statuses_are_unavailable(provider, status):
    responses.get(BARS_URL, json={"message": "nope"}, status=status)
    with pytest.raises(MarketDataUnavailable):
        provider.get_bars("AAPL", date(2026, 4, 14), date(2026, 4, 16))


@pytest.mark.parametrize(
    "error", [requests.exceptions.ReadTimeout("read timed out"), requests.exceptions.ConnectTimeout("connect timed out"),
              requests.exceptions.ConnectionError("connection refused")]
)
@responses.activate
def test_alpaca_timeouts_and_network_errors_are_unavailable(provider, error):
    responses.get(BARS_URL, body=error)
    with pytest.raises(MarketDataUnavailable):
        provider.get_bars("AAPL", date(2026, 4, 14), date(2026, 4, 16))


@responses.activate
def test_alpaca_requests_carry_a_timeout(provider, monkeypatch):
    seen = {}
    real_get = requests.get

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real_get(*args, **kwargs)

    monkeypatch.setattr("wcb.market_data.http.requests.get", spy)
    responses.get(BARS_URL, json=PAGE_2)
    provider.get_bars("AAPL", date(2026, 4, 16), date(2026, 4, 16))
    assert seen["timeout"] == 10


FIRST_PAGE_QUERY = {"timeframe": "1Day", "start": "2026-04-14", "end": "2026-04-17", "adjustment": "raw", "feed": "iex", "limit": "10000"}


@responses.activate
def test_alpaca_error_on_a_later_page_is_unavailable(provider):
    responses.get(BARS_URL, json=PAGE_1, match=[matchers.query_param_matcher(FIRST_PAGE_QUERY)])
    responses.get(BARS_URL, status=503, match=[matchers.query_param_matcher({**FIRST_PAGE_QUERY, "page_token": PAGE_1["next_page_token"]})])
    with pytest.raises(MarketDataUnavailable):
        provider.get_bars("AAPL", date(2026, 4, 14), date(2026, 4, 16))
    assert len(responses.calls) == 2


# --- Alpaca corporate actions ----------------------------------------------------------


@responses.activate
def test_alpaca_corporate_actions(provider):
    # start/end filter on process date: the request reaches 90 days past the window
    # (2026-12-31 + 90 days = 2027-03-31); ex_date decides what is kept.
    responses.get(
        CA_URL,
        json=CORPORATE_ACTIONS,
        match=[matchers.query_param_matcher(
            {"symbols": "AAPL", "types": "cash_dividend,forward_split,reverse_split,spin_off", "start": "2026-01-01", "end": "2027-03-31", "limit": "1000"}
        )],
    )
    actions = provider.get_corporate_actions("AAPL", date(2026, 1, 1), date(2026, 12, 31))
    assert actions == [
        CorporateAction("dividend", date(2026, 5, 11), cash_amount=D("0.26")),
        CorporateAction("split", date(2026, 6, 10), old_rate=D("1"), new_rate=D("4")),
        CorporateAction("spinoff", date(2026, 6, 30)),
        CorporateAction("split", date(2026, 9, 1), old_rate=D("10"), new_rate=D("1")),
    ]  # MSFT's dividend is not AAPL's


@responses.activate
def test_alpaca_corporate_actions_paging_and_empty(provider):
    query = {"symbols": "AAPL", "types": "cash_dividend,forward_split,reverse_split,spin_off", "start": "2026-01-01", "end": "2027-03-31", "limit": "1000"}
    first = responses.get(CA_URL, json={"corporate_actions": {}, "next_page_token": "t2"}, match=[matchers.query_param_matcher(query)])
    second = responses.get(CA_URL, json={"corporate_actions": {"cash_dividends": []}, "next_page_token": None},
                           match=[matchers.query_param_matcher({**query, "page_token": "t2"})])
    assert provider.get_corporate_actions("AAPL", date(2026, 1, 1), date(2026, 12, 31)) == []
    assert first.call_count == 1 and second.call_count == 1


@responses.activate
def test_alpaca_corporate_actions_5xx(provider):
    responses.get(CA_URL, status=500)
    with pytest.raises(MarketDataUnavailable):
        provider.get_corporate_actions("AAPL", date(2026, 1, 1), date(2026, 12, 31))


# --- Alpha Vantage --------------------------------------------------------------------------


@responses.activate
def test_alpha_vantage_derives_bars_dividends_and_splits_from_one_call():
    call = responses.get(
        AV_URL, json=av_body(),
        match=[matchers.query_param_matcher({"function": "TIME_SERIES_DAILY_ADJUSTED", "symbol": "AAPL", "outputsize": "full", "apikey": "av"})],
    )
    av = AlphaVantageProvider("av")
    bars = av.get_bars("AAPL", date(2026, 6, 9), date(2026, 6, 10))
    actions = av.get_corporate_actions("AAPL", date(2026, 6, 9), date(2026, 6, 10))
    assert call.call_count == 1
    assert bars == [
        Bar(date(2026, 6, 9), D("760.1500"), D("768.1500"), D("750.4700"), D("755.2300"), 41026042),  # raw close, not adjusted
        Bar(date(2026, 6, 10), D("188.4700"), D("195.7300"), D("187.1500"), D("194.0100"), 86760702),
    ]
    assert actions == [
        CorporateAction("dividend", date(2026, 6, 9), cash_amount=D("0.2600")),
        CorporateAction("split", date(2026, 6, 10), old_rate=D("1"), new_rate=D("4.0")),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."},
        {"Information": "We have detected your API key as AV and our standard API rate limit is 25 requests per day."},
    ],
)
@responses.activate
def test_alpha_vantage_rate_limit_bodies_are_unavailable(body):
    responses.get(AV_URL, json=body)
    with pytest.raises(MarketDataUnavailable):
        AlphaVantageProvider("av").get_bars("AAPL", date(2026, 6, 1), date(2026, 6, 30))


@responses.activate
def test_alpha_vantage_error_message_is_no_data():
    responses.get(AV_URL, json={"Error Message": "Invalid API call. Please retry or visit the documentation for TIME_SERIES_DAILY_ADJUSTED."})
    assert AlphaVantageProvider("av").get_bars("ZZZZ", date(2026, 6, 1), date(2026, 6, 30)) == []


@responses.activate
def test_alpha_vantage_5xx_and_timeout():
    responses.get(AV_URL, status=502)
    with pytest.raises(MarketDataUnavailable):
        AlphaVantageProvider("av").get_bars("AAPL", date(2026, 6, 1), date(2026, 6, 30))
    responses.replace(responses.GET, AV_URL, body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(MarketDataUnavailable):
        AlphaVantageProvider("av").get_bars("AAPL", date(2026, 6, 1), date(2026, 6, 30))


# --- get_market_data: provider choice and fallback ----------------------------------------


def test_get_provider_follows_settings(settings, alpaca_settings):
    assert get_provider().name == "alpaca"
    settings.MARKET_DATA_PROVIDER = "fixture"
    assert get_provider().name == "fixture"


@responses.activate
def test_get_market_data_from_alpaca(alpaca_settings):
    responses.get(BARS_URL, json=PAGE_2)
    responses.get(CA_URL, json=CORPORATE_ACTIONS)
    md = get_market_data("AAPL", date(2026, 4, 16), date(2026, 6, 30))
    assert md.source == "alpaca"
    assert md.symbol == "AAPL"
    assert [b.date for b in md.bars] == [date(2026, 4, 16)]
    assert [a.ca_type for a in md.actions] == ["dividend", "split", "spinoff"]


@responses.activate
def test_alpha_vantage_fallback_when_alpaca_fails(alpaca_settings):
    alpaca_settings.ALPHA_VANTAGE_API_KEY = "av"
    responses.get(BARS_URL, status=503)
    av = responses.get(AV_URL, json=av_body())
    md = get_market_data("AAPL", date(2026, 6, 8), date(2026, 6, 10))
    assert md.source == "alpha_vantage"
    assert av.call_count == 1
    assert len(md.bars) == 3
    assert [a.ca_type for a in md.actions] == ["dividend", "split"]


@responses.activate
def test_fallback_also_when_alpaca_corporate_actions_fail(alpaca_settings):
    alpaca_settings.ALPHA_VANTAGE_API_KEY = "av"
    june = {"bars": [alpaca_bar("2026-06-09T04:00:00Z", 760.15, 768.15, 750.47, 755.23, 41026042)], "next_page_token": None}
    responses.get(BARS_URL, json=june)
    responses.get(CA_URL, body=requests.exceptions.ReadTimeout("slow"))
    responses.get(AV_URL, json=av_body())
    assert get_market_data("AAPL", date(2026, 6, 8), date(2026, 6, 10)).source == "alpha_vantage"


@responses.activate
def test_both_providers_down_is_unavailable(alpaca_settings):
    alpaca_settings.ALPHA_VANTAGE_API_KEY = "av"
    responses.get(BARS_URL, status=500)
    responses.get(AV_URL, json={"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute."})
    with pytest.raises(MarketDataUnavailable) as excinfo:
        get_market_data("AAPL", date(2026, 6, 8), date(2026, 6, 10))
    assert "alpaca" in str(excinfo.value) and "alpha_vantage" in str(excinfo.value)


@responses.activate
def test_no_fallback_without_an_alpha_vantage_key(alpaca_settings):
    responses.get(BARS_URL, status=429)
    with pytest.raises(MarketDataUnavailable):
        get_market_data("AAPL", date(2026, 6, 8), date(2026, 6, 10))
    assert len(responses.calls) == 1


@responses.activate
def test_alpaca_empty_bars_is_no_data_and_no_fallback(alpaca_settings):
    alpaca_settings.ALPHA_VANTAGE_API_KEY = "av"
    responses.get("https://data.alpaca.markets/v2/stocks/DLSTD/bars", json={"bars": [], "symbol": "DLSTD", "next_page_token": None})
    md = get_market_data("DLSTD", date(2026, 6, 8), date(2026, 6, 10))
    assert md.bars == () and md.actions == () and md.source == "alpaca"
    assert len(responses.calls) == 1  # neither corporate actions nor Alpha Vantage were asked


@responses.activate
def test_alpaca_corporate_actions_are_kept_by_ex_date(provider):
    # the answer (filtered by process date) also held actions whose ex-date is outside the window
    responses.get(CA_URL, json=CORPORATE_ACTIONS)
    actions = provider.get_corporate_actions("AAPL", date(2026, 5, 1), date(2026, 6, 15))
    assert [(a.ca_type, a.ex_date) for a in actions] == [("dividend", date(2026, 5, 11)), ("split", date(2026, 6, 10))]
