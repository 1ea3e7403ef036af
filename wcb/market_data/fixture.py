"""Offline provider: one JSON file per symbol (format pinned in CONTRACTS §4).

```
{"symbol": "AAPL",
 "bars": [{"date": "2026-04-15", "open": "...", "high": "...", "low": "...", "close": "...", "volume": 123}],
 "corporate_actions": [{"ca_type": "dividend", "ex_date": "2026-05-09", "cash_amount": "0.25"},
                       {"ca_type": "split", "ex_date": "2026-06-10", "old_rate": 1, "new_rate": 4},
                       {"ca_type": "spinoff", "ex_date": "2026-06-20"}]}
```

Prices are raw. A symbol without a file has no market data (empty lists). A file
that cannot be parsed is a provider failure (``MarketDataUnavailable``: rows stay
pending, the render answers 503), never a 500. Parsed files are memoised per
(path, mtime in ns, size), so a job run reads each file once and a rewritten file
is read again.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from .base import CA_TYPES, Bar, CorporateAction, MarketDataUnavailable

logger = logging.getLogger(__name__)

_SAFE_SYMBOL = re.compile(r"^[A-Z0-9.\-]{1,16}$")


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@lru_cache(maxsize=256)
def _load(path: str, mtime_ns: int, size: int) -> tuple[tuple[Bar, ...], tuple[CorporateAction, ...]]:
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    bars = tuple(
        sorted(
            (
                Bar(
                    date=date.fromisoformat(b["date"]),
                    open=Decimal(str(b["open"])),
                    high=Decimal(str(b["high"])),
                    low=Decimal(str(b["low"])),
                    close=Decimal(str(b["close"])),
                    volume=int(b.get("volume") or 0),
                )
                for b in doc.get("bars", [])
            ),
            key=lambda bar: bar.date,
        )
    )
    actions = tuple(
        sorted(
            (
                CorporateAction(
                    ca_type=a["ca_type"],
                    ex_date=date.fromisoformat(a["ex_date"]),
                    cash_amount=_dec(a.get("cash_amount")),
                    old_rate=_dec(a.get("old_rate")),
                    new_rate=_dec(a.get("new_rate")),
                )
                for a in doc.get("corporate_actions", [])
                if a.get("ca_type") in CA_TYPES
            ),
            key=lambda action: action.ex_date,
        )
    )
    return bars, actions


class FixtureProvider:
    name = "fixture"

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def _read(self, symbol: str):
        symbol = symbol.strip().upper()
        if not _SAFE_SYMBOL.match(symbol):  # never let a symbol walk the filesystem
            return (), ()
        path = self.directory / f"{symbol}.json"
        try:
            stat = path.stat()
        except OSError:
            return (), ()
        try:
            return _load(str(path), stat.st_mtime_ns, stat.st_size)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as exc:
            logger.error("market data fixture %s could not be read: %r", path, exc)
            raise MarketDataUnavailable(f"fixture file {path.name} could not be read: {exc!r}") from exc

    def get_bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        bars, _ = self._read(symbol)
        return [b for b in bars if start <= b.date <= end]

    def get_corporate_actions(self, symbol: str, start: date, end: date) -> list[CorporateAction]:
        _, actions = self._read(symbol)
        return [a for a in actions if start <= a.ex_date <= end]

    def symbols(self) -> list[str]:
        """The symbols shipped in the directory (for demo data and the admin)."""
        return sorted(p.stem for p in self.directory.glob("*.json"))
