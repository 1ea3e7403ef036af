"""The "What Could've Been" arithmetic (CONTRACTS §4), as pure functions.

Nothing here touches the database or the network: callers pass a
:class:`PositionInput`, the symbol's :class:`~wcb.market_data.MarketData` and the
moment of evaluation (``as_of``), and get a :class:`WcbResult` back.

Arithmetic (Decimal throughout; q = signed quantity, negative for a short;
m = multiplier; c = close_commission)::

    actual_pnl = (close_price − cost_basis) × q × m − c

    close-date        = the New York calendar date of closed_at
    first session     = the session of closed_at if it closed before that session's
                        close (pre-market included), else the next session
                        (after hours, weekend, holiday)
    horizon session   = EOD: the first session; EOM: the last session of the first
                        session's calendar month
    horizon_timestamp = that session's real close in UTC (13:00 ET on early closes)

    r(d) = Π new_rate/old_rate   over splits     with close-date < ex_date ≤ d
    D(d) = Σ cash_amount × r(ex) over dividends  with close-date < ex_date ≤ d
           (r(ex): the splits up to that dividend's own ex-date, so a dividend
           declared per post-split share is counted per share held at the close)
    pnl(d) = (close(d) × r(d) − cost_basis) × q × m + D(d) × q × m − c

    horizon_price       = raw close of the horizon session
    would_have_pnl      = pnl(horizon)
    delta_pnl           = would_have_pnl − actual_pnl
    split_ratio_applied = r(horizon)    dividends_in_window = D(horizon)
    trajectory          = [(d, pnl(d) rounded to cents)] for each session from the
                          first session to the horizon that has closed by ``as_of``
                          and has a bar

Bars are raw (as traded that day): splits are applied here, through r(d), never by
the provider (``adjustment=raw`` + explicit split events, design §5.1/Q2). A dividend
whose ex-date is the close-date is not counted (the seller kept it). Short positions
pay dividends: D × q is negative when q is. Money results (``actual_pnl``,
``would_have_pnl``, ``delta_pnl``, ``dividends_in_window``) are quantized to 6
decimal places, half-up (the NUMERIC(14,6)/(12,6) columns), and ``delta_pnl`` is the
difference of the quantized values, so stored rows add up exactly. The ratio is
quantized to 6 places too (NUMERIC(10,6)). Trajectory points are rounded to cents, half-up.

Only what had happened by ``as_of`` is used: sessions whose close is after ``as_of``
are ignored even when the data has bars for them (fixtures cover the whole year), so
a result never contains anything from after the moment it describes.

``horizon_reached`` (safe to finalize) needs all of:
  1. the horizon session's close is at or before ``as_of``;
  2. the horizon session has a bar;
  3. the dividend-lag rule of design §5.3, for remote providers only (``LAGGED_SOURCES``:
     Alpaca / Alpha Vantage publish corporate actions with a lag; the offline fixture
     files are complete, so fixture data is never held). Our reading: when a counted dividend has
     its ex-date ON the horizon session, the result is finalized only once the session
     after the horizon has closed too (i.e. by the next trading day's job run), so a
     late or corrected corporate-actions record for that ex-date is picked up before
     the row freezes. Positions whose window has no dividend on the horizon session
     are not delayed. (A dividend entirely missing from the data at the horizon run
     cannot be told from "no dividend"; Alpaca publishes announcements well before
     the ex-date, so the rule targets late corrections, as §5.3 intends.)

No market data: when at least one window session has closed but none of them has a
bar, or the horizon session has closed without a bar, ``data_source`` is
``"unavailable"`` and the row stays pending (revision §12). Before the first session
has closed nothing is needed yet, and ``data_source`` is the provider's name.

Options (``call``, ``put``, ``multi_leg``): the symbol is the underlying and the bars
are the underlying's prices; the data holds nothing about the contract (no premium,
implied volatility or time decay). So for options:
  - ``actual_pnl`` is computed as above: it uses only the user's own prices and is real;
  - ``would_have_pnl``, ``delta_pnl`` are None and the ``trajectory`` is empty: an
    underlying move × quantity × multiplier is not an option P&L and is never shown as one;
  - ``horizon_price`` is the underlying's raw close at the horizon, and
    ``underlying_trajectory`` carries the underlying's split-adjusted closes;
  - ``options_caveat`` states the underlying's move, past tense: from the open of the
    first session (the first price of the window the data holds) to the close of the
    horizon session (or the latest closed session while in progress), split-adjusted
    to the share basis at the close, with the percentage change.
``horizon_reached`` follows the same rule for options, so their rows finalize too.

Copy (notes and caveats) is past tense, retrospective and structural: it states what
happened in the window and what the figures include, never what may come.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from . import calendar as nyse
from .market_data import CA_DIVIDEND, CA_SPINOFF, CA_SPLIT, CorporateAction, MarketData

HORIZON_EOD = "close_of_market_only"
HORIZON_EOM = "monthly"
HORIZONS = (HORIZON_EOD, HORIZON_EOM)

ASSET_EQUITY = "equity"
OPTION_ASSET_TYPES = ("call", "put", "multi_leg")
ASSET_TYPES = (ASSET_EQUITY, *OPTION_ASSET_TYPES)

DATA_UNAVAILABLE = "unavailable"
LAGGED_SOURCES = ("alpaca", "alpha_vantage")  # providers the dividend-lag rule applies to
NEAR_EOM_SESSIONS = 3

_MONEY = Decimal("0.000001")
_CENTS = Decimal("0.01")


@dataclass(frozen=True)
class PositionInput:
    symbol: str
    asset_type: str
    quantity: Decimal  # signed: negative = short
    cost_basis: Decimal
    close_price: Decimal
    close_commission: Decimal
    multiplier: int
    closed_at: datetime  # aware
    horizon: str  # HORIZON_EOD | HORIZON_EOM


@dataclass(frozen=True)
class WcbResult:
    first_session: date
    horizon_session: date
    horizon_timestamp_utc: datetime
    horizon_reached: bool
    actual_pnl: Decimal
    horizon_price: Decimal | None
    would_have_pnl: Decimal | None
    delta_pnl: Decimal | None
    split_ratio_applied: Decimal
    dividends_in_window: Decimal
    trajectory: tuple[tuple[date, Decimal], ...]
    spinoff_detected: bool
    data_source: str
    notes: tuple[str, ...]
    options_caveat: str | None
    # Additions (beyond the pinned interface), for the §7.3 metadata block:
    near_eom_note: str | None = None
    spinoff_note: str | None = None
    tracking_days: int = 0  # window sessions that had closed by as_of and had a bar
    data_as_of_utc: datetime | None = None  # close of the latest session whose bar was used
    underlying_trajectory: tuple[tuple[date, Decimal], ...] = ()  # (d, close(d) × r(d))
    missing_sessions: tuple[date, ...] = ()  # closed window sessions without a bar
    # The earliest as_of at which horizon_reached can turn true: the horizon close, or the
    # close of the session after it when the dividend-lag rule applies. Jobs that run on a
    # monthly beat (EOM) use it to know a held row needs another look before next month.
    finalizable_after_utc: datetime | None = None
    # Set while the dividend-lag rule holds the row open: the ex-date (= the horizon session).
    held_dividend_ex_date: date | None = None


def _q(value: Decimal, step: Decimal = _MONEY) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def _validate(p: PositionInput) -> None:
    if p.asset_type not in ASSET_TYPES:
        raise ValueError(f"unknown asset_type {p.asset_type!r}")
    if p.horizon not in HORIZONS:
        raise ValueError(f"unknown horizon {p.horizon!r}")


def is_option(p: PositionInput) -> bool:
    return p.asset_type in OPTION_ASSET_TYPES


def close_date(p: PositionInput) -> date:
    """The New York calendar date of the close (the 'close-date' of the arithmetic)."""
    if p.closed_at.tzinfo is None:
        raise ValueError("closed_at must be timezone-aware")
    return p.closed_at.astimezone(nyse.NEW_YORK).date()


def actual_pnl(p: PositionInput) -> Decimal:
    """(close_price − cost_basis) × q × m − c, quantized to 6 places."""
    return actual_pnl_of(p.close_price, p.cost_basis, p.quantity, p.multiplier, p.close_commission)


def actual_pnl_of(close_price: Decimal, cost_basis: Decimal, quantity: Decimal, multiplier: int,
                  commission: Decimal) -> Decimal:
    """``actual_pnl`` from the numbers themselves (the jobs' per-row arithmetic, no PositionInput)."""
    return _q((close_price - cost_basis) * quantity * multiplier - commission)


def horizon_session_for(p: PositionInput) -> tuple[date, date, datetime]:
    """(first session, horizon session, the horizon session's close in UTC)."""
    _validate(p)
    first = nyse.effective_first_session(p.closed_at)
    horizon = first if p.horizon == HORIZON_EOD else nyse.month_last_session(first)
    return first, horizon, nyse.session_close_utc(horizon)


class _Window:
    """The corporate actions that count for one position: close-date < ex_date ≤ horizon."""

    def __init__(self, actions: tuple[CorporateAction, ...], after: date, through: date):
        inside = sorted((a for a in actions if after < a.ex_date <= through), key=lambda a: a.ex_date)
        self.splits = [a for a in inside if a.ca_type == CA_SPLIT and a.ratio > 0]
        self.dividends = [a for a in inside if a.ca_type == CA_DIVIDEND and a.cash_amount]
        self.spinoffs = [a for a in inside if a.ca_type == CA_SPINOFF]

    def r(self, d: date) -> Decimal:
        ratio = Decimal(1)
        for split in self.splits:
            if split.ex_date <= d:
                ratio *= split.ratio
        return ratio

    def D(self, d: date) -> Decimal:
        return sum((div.cash_amount * self.r(div.ex_date) for div in self.dividends if div.ex_date <= d), Decimal(0))


def _pnl(p: PositionInput, close: Decimal, r: Decimal, D: Decimal) -> Decimal:
    return _pnl_of(close, r, D, p.cost_basis, p.quantity, p.multiplier, p.close_commission)


def _pnl_of(close: Decimal, r: Decimal, D: Decimal, cost_basis: Decimal, quantity: Decimal, multiplier: int,
            commission: Decimal) -> Decimal:
    return (close * r - cost_basis) * quantity * multiplier + D * quantity * multiplier - commission


def horizon_factors(p: PositionInput, data: MarketData, horizon: date) -> tuple[Decimal, Decimal]:
    """r(horizon) and D(horizon), unrounded: the same for every position with this close-date and horizon."""
    win = _Window(data.actions, close_date(p), horizon)
    return win.r(horizon), win.D(horizon)


def would_have_pnl(p: PositionInput, horizon_close: Decimal, r: Decimal, D: Decimal) -> Decimal:
    """pnl(horizon), quantized to 6 places."""
    return _q(_pnl(p, horizon_close, r, D))


def would_have_pnl_of(horizon_close: Decimal, r: Decimal, D: Decimal, cost_basis: Decimal, quantity: Decimal,
                      multiplier: int, commission: Decimal) -> Decimal:
    """``would_have_pnl`` from the numbers themselves (the jobs' per-row arithmetic, no PositionInput)."""
    return _q(_pnl_of(horizon_close, r, D, cost_basis, quantity, multiplier, commission))


def _money(value: Decimal) -> str:
    return f"${_q(value, _CENTS):,}"


def compute(p: PositionInput, data: MarketData, *, as_of: datetime) -> WcbResult:
    """The WCB result for one position as of ``as_of`` (see the module docstring)."""
    _validate(p)
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    first, horizon, horizon_ts = horizon_session_for(p)
    cdate = close_date(p)
    option = is_option(p)
    window_sessions = nyse.sessions_between(first, horizon)
    last_done = nyse.last_completed_session(as_of)
    closed_sessions = [d for d in window_sessions if last_done is not None and d <= last_done]
    bars = {b.date: b for b in data.bars if first <= b.date <= horizon}
    win = _Window(data.actions, cdate, horizon)

    with_bars = [d for d in closed_sessions if d in bars]
    missing = tuple(d for d in closed_sessions if d not in bars)
    latest = with_bars[-1] if with_bars else None
    horizon_bar = bars.get(horizon) if horizon in closed_sessions else None
    reference = horizon if horizon_bar else latest  # where r/D are read while in progress

    underlying = tuple((d, _q(bars[d].close * win.r(d))) for d in with_bars)
    trajectory = () if option else tuple((d, _q(_pnl(p, bars[d].close, win.r(d), win.D(d)), _CENTS)) for d in with_bars)

    actual = actual_pnl(p)
    would = delta = None
    if horizon_bar is not None and not option:
        would = would_have_pnl(p, horizon_bar.close, win.r(horizon), win.D(horizon))
        delta = would - actual

    # The lag guards against a remote provider publishing an ex-date-T dividend late; the
    # offline fixture provider's corporate actions are complete by construction.
    dividend_on_horizon = data.source in LAGGED_SOURCES and any(div.ex_date == horizon for div in win.dividends)
    lag_satisfied = not dividend_on_horizon or (last_done is not None and last_done > horizon)
    horizon_reached = horizon_bar is not None and as_of >= horizon_ts and lag_satisfied
    finalizable_after = nyse.session_close_utc(nyse.next_session(horizon)) if dividend_on_horizon else horizon_ts

    if closed_sessions and (not with_bars or (horizon in closed_sessions and horizon_bar is None)):
        data_source = DATA_UNAVAILABLE
    else:
        data_source = data.source

    # only actions that had happened by the latest closed session count as "occurred"
    seen_through = last_done if last_done is not None else cdate
    spinoffs = [s for s in win.spinoffs if s.ex_date <= seen_through]
    spinoff_note = None
    if spinoffs:
        dates = ", ".join(s.ex_date.isoformat() for s in spinoffs)
        spinoff_note = (
            f"A corporate spinoff occurred during this window (ex-date {dates}). "
            "Tracking reflected the original security only."
        )

    near_eom_note = None
    if p.horizon == HORIZON_EOM:
        left = nyse.sessions_left_in_month(first)
        if left <= NEAR_EOM_SESSIONS:
            near_eom_note = (
                f"The position closed with {left} trading day(s) left in the month; "
                f"tracking covered {len(window_sessions)} trading day(s), through {horizon.isoformat()}."
            )
            if left == 0:
                near_eom_note += " The monthly result matched the close-of-market result."

    notes: list[str] = []
    if first != cdate:
        if nyse.is_session(cdate):
            close_et = nyse.session_close_utc(cdate).astimezone(nyse.NEW_YORK)
            notes.append(
                f"The position closed after the {close_et:%H:%M} ET close of {cdate.isoformat()}; "
                f"tracking started with the next session, {first.isoformat()}."
            )
        else:
            notes.append(
                f"The position closed on {cdate.isoformat()}, a day without an NYSE session; "
                f"tracking started with the next session, {first.isoformat()}."
            )
    if near_eom_note:
        notes.append(near_eom_note)
    for split in win.splits:
        if split.ex_date <= seen_through:
            notes.append(
                f"A {split.new_rate.normalize():f}-for-{split.old_rate.normalize():f} split took effect on "
                f"{split.ex_date.isoformat()}; prices from that session on were multiplied by "
                f"{split.ratio.normalize():f} to stay comparable with the position's shares."
            )
    if spinoff_note:
        notes.append(spinoff_note)
    if data_source == DATA_UNAVAILABLE:
        notes.append("Market data was unavailable for this position.")
    elif missing:
        notes.append(
            f"Market data was missing for {len(missing)} session(s) in this window "
            f"({', '.join(d.isoformat() for d in missing)}); those sessions were left out of the trajectory."
        )
    if horizon_bar is not None and dividend_on_horizon and not lag_satisfied:
        notes.append(
            f"A dividend went ex on the horizon session ({horizon.isoformat()}); the result was held open "
            "for one more session's corporate-action data (dividend-lag rule)."
        )

    options_caveat = None
    if option:
        options_caveat = _options_caveat(p, bars, win, first, latest if horizon_bar is None else horizon)

    return WcbResult(
        first_session=first,
        horizon_session=horizon,
        horizon_timestamp_utc=horizon_ts,
        horizon_reached=horizon_reached,
        actual_pnl=actual,
        horizon_price=horizon_bar.close if horizon_bar is not None else None,
        would_have_pnl=would,
        delta_pnl=delta,
        split_ratio_applied=_q(win.r(reference)) if reference else _q(Decimal(1)),
        dividends_in_window=_q(win.D(reference)) if reference else _q(Decimal(0)),
        trajectory=trajectory,
        spinoff_detected=bool(spinoffs),
        data_source=data_source,
        notes=tuple(notes),
        options_caveat=options_caveat,
        near_eom_note=near_eom_note,
        spinoff_note=spinoff_note,
        tracking_days=len(with_bars),
        data_as_of_utc=nyse.session_close_utc(latest) if latest else None,
        underlying_trajectory=underlying,
        missing_sessions=missing,
        held_dividend_ex_date=horizon if horizon_bar is not None and dividend_on_horizon and not lag_satisfied else None,
        finalizable_after_utc=finalizable_after,
    )


def _options_caveat(p: PositionInput, bars: dict, win: _Window, first: date, end: date | None) -> str:
    symbol = p.symbol.upper()
    tail = (
        " The option's value also depended on implied volatility and time decay, which were not "
        "reflected here; no option P&L was computed for this window."
    )
    start_bar = bars.get(first)
    if end is None or start_bar is None:
        return f"No prices for the underlying ({symbol}) were available for this window." + tail
    start = start_bar.open * win.r(first)
    finish = bars[end].close * win.r(end)
    change = "" if not start else f" ({_q((finish - start) / start * 100, _CENTS):+}%)"
    adjusted = " (split-adjusted)" if win.r(end) != 1 else ""
    return (
        f"The underlying ({symbol}) moved from {_money(start)} at the open of {first.isoformat()} "
        f"to {_money(finish)} at the close of {end.isoformat()}{adjusted}{change}." + tail
    )
