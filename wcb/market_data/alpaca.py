"""Alpaca market data over plain HTTP (``requests``), no SDK.

Bars: ``GET https://data.alpaca.markets/v2/stocks/{symbol}/bars`` with
``timeframe=1Day&adjustment=raw&feed=iex&limit=10000`` and ``page_token`` paging.
Response shape (Alpaca Market Data API v2, "Historical bars"; also mirrored by the
alpaca-data crate's api-coverage notes, docs.rs/crate/alpaca-data):
``{"bars": [{"t": "2026-04-15T04:00:00Z", "o": .., "h": .., "l": .., "c": .., "v": .., "n": .., "vw": ..}],
"symbol": "AAPL", "next_page_token": null}``. A daily bar's ``t`` is midnight New York
time expressed in UTC, so its session date is ``t`` converted to America/New_York.

Corporate actions: ``GET https://data.alpaca.markets/v1/corporate-actions`` with
``symbols``, ``types=cash_dividend,forward_split,reverse_split,spin_off``, ``start``,
``end`` and ``page_token`` paging. Response shape (per the docs.rs alpaca-data
``corporate_actions/model.rs`` and rustrade-data ``alpaca/reference.rs`` mirrors of the
official OpenAPI): ``{"corporate_actions": {"cash_dividends": [{"symbol", "rate", "ex_date", ...}],
"forward_splits": [{"symbol", "old_rate", "new_rate", "ex_date", ...}], "reverse_splits": [...],
"spin_offs": [{"source_symbol", "source_rate", "new_symbol", "new_rate", "ex_date", ...}]},
"next_page_token": null}``. ``ex_date`` (not ``payable_date``) is the date that matters.
The endpoint's ``start``/``end`` filter on the *process* date, which for a cash dividend
can fall weeks after its ex-date, so the request reaches ``PROCESS_DATE_SLACK_DAYS`` past
``end`` and the answer is filtered on ``ex_date`` here. A dividend Alpaca has not yet
published by the time a job runs cannot be seen; the dividend-lag rule in
``wcb.compute`` and design open question Q1 (measure the real lag with live
credentials) are about exactly that.

Why ``adjustment=raw`` plus explicit splits (design §5.1 / open question Q2): raw bars
are what every feed and credential level returns, and the CONTRACTS §4 arithmetic
applies the split ratio r(d) itself, so the stored ``horizon_price`` is the real
traded price and ``split_ratio_applied`` says exactly what was applied.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .base import CA_DIVIDEND, CA_SPINOFF, CA_SPLIT, Bar, CorporateAction, MarketDataUnavailable
from .http import NotFound, get_json

DATA_URL = "https://data.alpaca.markets"  # settings.ALPACA_DATA_URL overrides (sandbox, or a local stand-in)
NEW_YORK = ZoneInfo("America/New_York")
PROCESS_DATE_SLACK_DAYS = 90
MAX_PAGES = 50  # 10,000 daily bars a page: a runaway token loop, not real data, would pass this


def _session_date(timestamp: str) -> date:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(NEW_YORK).date()


class AlpacaProvider:
    name = "alpaca"

    def __init__(self, api_key: str, secret_key: str, data_url: str | None = None):
        self.headers = {"APCA-API-KEY-ID": api_key or "", "APCA-API-SECRET-KEY": secret_key or ""}
        self.data_url = (data_url or DATA_URL).rstrip("/")

    def _pages(self, url: str, params: dict):
        token = None
        for _ in range(MAX_PAGES):
            query = dict(params, page_token=token) if token else params
            body = get_json(url, params=query, headers=self.headers, provider=self.name)
            yield body
            token = body.get("next_page_token")
            if not token:
                return
        raise MarketDataUnavailable(f"{self.name}: more than {MAX_PAGES} pages")

    def get_bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        symbol = symbol.strip().upper()
        params = {
            "timeframe": "1Day",
            "start": start.isoformat(),
            # a date-only end is midnight UTC, before that day's bar timestamp: ask one day more
            "end": (end + timedelta(days=1)).isoformat(),
            "adjustment": "raw",
            "feed": "iex",
            "limit": 10000,
        }
        bars: dict[date, Bar] = {}
        try:
            for body in self._pages(f"{self.data_url}/v2/stocks/{quote(symbol, safe='.-')}/bars", params):
                for raw in body.get("bars") or []:
                    d = _session_date(raw["t"])
                    if start <= d <= end:
                        bars[d] = Bar(
                            date=d,
                            open=Decimal(str(raw["o"])),
                            high=Decimal(str(raw["h"])),
                            low=Decimal(str(raw["l"])),
                            close=Decimal(str(raw["c"])),
                            volume=int(raw.get("v") or 0),
                        )
        except NotFound:
            return []
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise MarketDataUnavailable(f"{self.name}: malformed bar ({exc.__class__.__name__})") from exc
        return [bars[d] for d in sorted(bars)]

    def get_corporate_actions(self, symbol: str, start: date, end: date) -> list[CorporateAction]:
        symbol = symbol.strip().upper()
        params = {
            "symbols": symbol,
            "types": "cash_dividend,forward_split,reverse_split,spin_off",
            "start": start.isoformat(),
            "end": (end + timedelta(days=PROCESS_DATE_SLACK_DAYS)).isoformat(),
            "limit": 1000,
        }
        actions: list[CorporateAction] = []
        try:
            for body in self._pages(f"{self.data_url}/v1/corporate-actions", params):
                groups = body.get("corporate_actions") or {}
                for raw in groups.get("cash_dividends") or []:
                    if raw.get("symbol") == symbol:
                        actions.append(
                            CorporateAction(CA_DIVIDEND, date.fromisoformat(raw["ex_date"]), cash_amount=Decimal(str(raw["rate"])))
                        )
                for key in ("forward_splits", "reverse_splits"):
                    for raw in groups.get(key) or []:
                        if raw.get("symbol") == symbol:
                            actions.append(
                                CorporateAction(
                                    CA_SPLIT,
                                    date.fromisoformat(raw["ex_date"]),
                                    old_rate=Decimal(str(raw["old_rate"])),
                                    new_rate=Decimal(str(raw["new_rate"])),
                                )
                            )
                for raw in groups.get("spin_offs") or []:
                    if raw.get("source_symbol") == symbol:
                        actions.append(CorporateAction(CA_SPINOFF, date.fromisoformat(raw["ex_date"])))
        except NotFound:
            return []
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise MarketDataUnavailable(f"{self.name}: malformed corporate action ({exc.__class__.__name__})") from exc
        return sorted((a for a in actions if start <= a.ex_date <= end), key=lambda a: a.ex_date)
