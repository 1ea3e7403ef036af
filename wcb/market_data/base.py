"""Value types and the provider protocol shared by every market-data provider.

Kept in a leaf module so the provider modules can import it without importing
the package's ``get_provider`` machinery (no import cycles).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol, runtime_checkable

CA_DIVIDEND = "dividend"
CA_SPLIT = "split"
CA_SPINOFF = "spinoff"
CA_TYPES = (CA_DIVIDEND, CA_SPLIT, CA_SPINOFF)


@dataclass(frozen=True)
class Bar:
    """One daily bar, raw: the prices as traded that day (no split or dividend adjustment)."""

    date: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


@dataclass(frozen=True)
class CorporateAction:
    """A corporate action on its ex-date.

    ``dividend``: ``cash_amount`` per share (as declared, i.e. per share outstanding on the ex-date).
    ``split``: one old share became ``new_rate / old_rate`` shares (4:1 → old_rate=1, new_rate=4;
    a 1:10 reverse split → old_rate=10, new_rate=1).
    ``spinoff``: informational only (design §9: V1 surfaces a note, no adjustment).
    """

    ca_type: str
    ex_date: date
    cash_amount: Decimal | None = None
    old_rate: Decimal | None = None
    new_rate: Decimal | None = None

    @property
    def ratio(self) -> Decimal:
        """Shares per old share for a split (1 for anything else or a malformed split)."""
        if self.ca_type != CA_SPLIT or not self.old_rate or not self.new_rate:
            return Decimal(1)
        return self.new_rate / self.old_rate


class MarketDataUnavailable(Exception):
    """A transient provider failure (5xx, timeout, rate limit, network error).

    Rows stay pending and are retried on the next run; this is never "no data"
    (that is an empty list / empty ``MarketData.bars``).
    """


@dataclass(frozen=True)
class MarketData:
    """Everything the computation needs for one symbol over one date range.

    ``source``: ``"fixture"`` | ``"alpaca"`` | ``"alpha_vantage"``. Empty ``bars`` means
    the provider answered but had no market data for the symbol (delisted, unknown).
    """

    symbol: str
    bars: tuple[Bar, ...]
    actions: tuple[CorporateAction, ...]
    source: str


@runtime_checkable
class MarketDataProvider(Protocol):
    name: str

    def get_bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        """Raw daily bars with start <= date <= end, ascending. [] when there are none."""
        ...

    def get_corporate_actions(self, symbol: str, start: date, end: date) -> list[CorporateAction]:
        """Dividends, splits and spinoffs with start <= ex_date <= end, ascending by ex_date."""
        ...
