"""Market data for "What Could've Been": one interface, three providers.

- ``fixture`` (default, offline): ``settings.MARKET_DATA_FIXTURES_DIR/<SYMBOL>.json``
  in the format pinned in CONTRACTS §4 (see ``wcb/market_data/fixture.py``).
- ``alpaca``: Alpaca market data over plain HTTP, ``adjustment=raw`` bars plus
  explicit split/dividend/spinoff events (see ``wcb/market_data/alpaca.py``).
- ``alpha_vantage``: ``TIME_SERIES_DAILY_ADJUSTED``, used only as the fallback of
  ``alpaca`` when ``ALPHA_VANTAGE_API_KEY`` is set (``wcb/market_data/alpha_vantage.py``).

Callers use :func:`get_market_data` once per symbol per run; the computation in
``wcb.compute`` ignores bars and actions outside a position's window.
"""

from __future__ import annotations

import logging
from datetime import date

from django.conf import settings

from .base import (
    CA_DIVIDEND,
    CA_SPINOFF,
    CA_SPLIT,
    CA_TYPES,
    Bar,
    CorporateAction,
    MarketData,
    MarketDataProvider,
    MarketDataUnavailable,
)

__all__ = [
    "CA_DIVIDEND",
    "CA_SPINOFF",
    "CA_SPLIT",
    "CA_TYPES",
    "Bar",
    "CorporateAction",
    "MarketData",
    "MarketDataProvider",
    "MarketDataUnavailable",
    "get_market_data",
    "get_provider",
]

logger = logging.getLogger(__name__)


def get_provider() -> MarketDataProvider:
    """The provider named by ``settings.MARKET_DATA_PROVIDER`` (``fixture`` or ``alpaca``)."""
    name = getattr(settings, "MARKET_DATA_PROVIDER", "fixture") or "fixture"
    if name == "fixture":
        from .fixture import FixtureProvider

        return FixtureProvider(settings.MARKET_DATA_FIXTURES_DIR)
    if name == "alpaca":
        from .alpaca import AlpacaProvider

        return AlpacaProvider(settings.ALPACA_API_KEY, settings.ALPACA_SECRET_KEY,
                              getattr(settings, "ALPACA_DATA_URL", None))
    if name == "alpha_vantage":
        from .alpha_vantage import AlphaVantageProvider

        return AlphaVantageProvider(settings.ALPHA_VANTAGE_API_KEY)
    raise ValueError(f"unknown MARKET_DATA_PROVIDER {name!r}")


def _fallback_provider() -> MarketDataProvider | None:
    key = getattr(settings, "ALPHA_VANTAGE_API_KEY", "")
    if getattr(settings, "MARKET_DATA_PROVIDER", "fixture") != "alpaca" or not key:
        return None
    from .alpha_vantage import AlphaVantageProvider

    return AlphaVantageProvider(key)


def _fetch(provider: MarketDataProvider, symbol: str, start: date, end: date) -> MarketData:
    bars = provider.get_bars(symbol, start, end)
    actions = provider.get_corporate_actions(symbol, start, end) if bars else []
    return MarketData(symbol=symbol, bars=tuple(bars), actions=tuple(actions), source=provider.name)


def get_market_data(symbol: str, start: date, end: date, *, fallback: bool = True) -> MarketData:
    """Bars and corporate actions for ``symbol`` with dates in [start, end].

    Uses the configured provider. With ``MARKET_DATA_PROVIDER=alpaca`` and
    ``ALPHA_VANTAGE_API_KEY`` set, a transient Alpaca failure (bars or corporate
    actions) switches the whole fetch to Alpha Vantage (``source="alpha_vantage"``,
    design §5.2) — for the scheduled jobs only: the render path passes
    ``fallback=False`` (§5.2 keeps Alpha Vantage's 25-calls/day quota off it). An Alpaca answer of "no bars" is not a failure and does not fall
    back (a delisted symbol would otherwise spend the 25-calls/day free quota daily).
    Raises :class:`MarketDataUnavailable` when every provider failed transiently.
    """
    symbol = symbol.strip().upper()
    provider = get_provider()
    if start > end:  # nothing can be in an empty range: no request
        return MarketData(symbol=symbol, bars=(), actions=(), source=provider.name)
    try:
        return _fetch(provider, symbol, start, end)
    except MarketDataUnavailable as primary_error:
        fallback = _fallback_provider() if fallback else None
        if fallback is None:
            raise
        logger.warning("market data: %s failed for %s (%s); trying %s", provider.name, symbol, primary_error, fallback.name)
        try:
            return _fetch(fallback, symbol, start, end)
        except MarketDataUnavailable as fallback_error:
            raise MarketDataUnavailable(
                f"{provider.name}: {primary_error}; {fallback.name}: {fallback_error}"
            ) from fallback_error
