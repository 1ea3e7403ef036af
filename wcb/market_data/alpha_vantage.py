"""Alpha Vantage ``TIME_SERIES_DAILY_ADJUSTED``: the fallback when Alpaca fails (design §5.2).

``GET https://www.alphavantage.co/query?function=TIME_SERIES_DAILY_ADJUSTED&symbol=..&outputsize=full&apikey=..``
answers ``{"Meta Data": {...}, "Time Series (Daily)": {"2026-04-15": {"1. open": "..",
"2. high": "..", "3. low": "..", "4. close": "..", "5. adjusted close": "..", "6. volume": "..",
"7. dividend amount": "0.0000", "8. split coefficient": "1.0"}, ...}}``.

- ``4. close`` is the raw close, so bars are built from fields 1–4 and 6 (the adjusted
  close is not used: the computation applies splits itself).
- A non-zero ``7. dividend amount`` on a day is a dividend with that ex-date.
- A ``8. split coefficient`` other than 1 is a split on that ex-date:
  ``old_rate=1, new_rate=coefficient`` (4.0 = 4:1, 0.1 = 1:10 reverse).
- Spinoffs are not reported by this endpoint: none are derived.
- Failures arrive as HTTP 200 bodies: ``{"Note": ...}`` (the classic rate-limit message),
  ``{"Information": ...}`` (rate limit / premium-endpoint message) → transient,
  :class:`MarketDataUnavailable`; ``{"Error Message": ...}`` (unknown symbol, bad call) → no data.

One HTTP call serves both ``get_bars`` and ``get_corporate_actions`` (memoised on the
instance): the free tier allows 25 calls a day.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .base import CA_DIVIDEND, CA_SPLIT, Bar, CorporateAction, MarketDataUnavailable
from .http import NotFound, get_json

URL = "https://www.alphavantage.co/query"


class AlphaVantageProvider:
    name = "alpha_vantage"

    def __init__(self, api_key: str):
        self.api_key = api_key
        self._series: dict[str, dict] = {}

    def _daily(self, symbol: str) -> dict:
        symbol = symbol.strip().upper()
        if symbol in self._series:
            return self._series[symbol]
        params = {"function": "TIME_SERIES_DAILY_ADJUSTED", "symbol": symbol, "outputsize": "full", "apikey": self.api_key}
        try:
            body = get_json(URL, params=params, provider=self.name)
        except NotFound:
            body = {}
        if "Note" in body or "Information" in body:
            raise MarketDataUnavailable(f"{self.name}: {str(body.get('Note') or body.get('Information'))[:200]}")
        series = body.get("Time Series (Daily)") or {}  # "Error Message" or nothing: no data
        if not isinstance(series, dict):
            raise MarketDataUnavailable(f"{self.name}: unexpected response shape")
        self._series[symbol] = series
        return series

    def get_bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        bars = []
        try:
            for day, row in self._daily(symbol).items():
                d = date.fromisoformat(day)
                if start <= d <= end:
                    bars.append(
                        Bar(
                            date=d,
                            open=Decimal(row["1. open"]),
                            high=Decimal(row["2. high"]),
                            low=Decimal(row["3. low"]),
                            close=Decimal(row["4. close"]),
                            volume=int(Decimal(row.get("6. volume") or "0")),
                        )
                    )
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise MarketDataUnavailable(f"{self.name}: malformed bar ({exc.__class__.__name__})") from exc
        return sorted(bars, key=lambda b: b.date)

    def get_corporate_actions(self, symbol: str, start: date, end: date) -> list[CorporateAction]:
        actions = []
        try:
            for day, row in self._daily(symbol).items():
                d = date.fromisoformat(day)
                if not start <= d <= end:
                    continue
                dividend = Decimal(row.get("7. dividend amount") or "0")
                if dividend:
                    actions.append(CorporateAction(CA_DIVIDEND, d, cash_amount=dividend))
                coefficient = Decimal(row.get("8. split coefficient") or "1")
                if coefficient and coefficient != 1:
                    actions.append(CorporateAction(CA_SPLIT, d, old_rate=Decimal(1), new_rate=coefficient))
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise MarketDataUnavailable(f"{self.name}: malformed row ({exc.__class__.__name__})") from exc
        return sorted(actions, key=lambda a: a.ex_date)
