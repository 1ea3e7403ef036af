"""The NYSE trading calendar, from the maintained ``exchange-calendars`` library (XNYS).

No hand-written holiday list: sessions, holidays, early closes (13:00 ET, e.g. the
day after Thanksgiving and Christmas Eve) and DST all come from the library. The
calendar is built once per process and turned into plain Python lists, so the jobs
can call these functions for thousands of rows without touching pandas.

Dates are NYSE session dates (New York calendar days). Datetimes are aware; naive
datetimes are rejected (``ValueError``), never guessed.
"""

from __future__ import annotations

import bisect
import warnings
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
CALENDAR_START = date(2015, 1, 1)


class NoTradingDay(ValueError):
    """The calendar has no session where one was needed (outside its range; design revision §12)."""


class _Sessions:
    def __init__(self):
        import exchange_calendars as xcals

        # The library's default range ends a year after today; make sure it reaches
        # at least the end of next year so a month-end lookup never falls off the edge.
        end = max(date.today() + timedelta(days=400), date(date.today().year + 1, 12, 31))
        with warnings.catch_warnings():
            # exchange-calendars 4.13 trips pandas' own deprecation warnings internally
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            cal = xcals.get_calendar("XNYS", start=CALENDAR_START.isoformat(), end=end.isoformat())
            closes = cal.schedule["close"]
        self.dates: list[date] = [ts.date() for ts in closes.index]
        self.closes: dict[date, datetime] = {
            ts.date(): close.to_pydatetime().astimezone(timezone.utc) for ts, close in closes.items()
        }
        self.set = set(self.dates)

    def check(self, d: date) -> None:
        if not self.dates[0] <= d <= self.dates[-1]:
            raise NoTradingDay(f"{d} is outside the trading calendar's range ({self.dates[0]}..{self.dates[-1]})")


@lru_cache(maxsize=1)
def _cal() -> _Sessions:
    return _Sessions()


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment


def is_session(d: date) -> bool:
    """True when NYSE had (or has) a regular session on ``d``."""
    return d in _cal().set


def session_close_utc(session: date) -> datetime:
    """The real close of ``session`` in UTC (16:00 ET, 13:00 ET on early-close days)."""
    cal = _cal()
    if session not in cal.set:
        raise ValueError(f"{session} is not an NYSE session")
    return cal.closes[session]


def next_session(d: date) -> date:
    """The first session strictly after ``d``."""
    cal = _cal()
    cal.check(d)
    i = bisect.bisect_right(cal.dates, d)
    if i >= len(cal.dates):
        raise NoTradingDay(f"no session after {d} in the calendar's range")
    return cal.dates[i]


def previous_session(d: date) -> date:
    """The last session strictly before ``d``."""
    cal = _cal()
    cal.check(d)
    i = bisect.bisect_left(cal.dates, d)
    if i == 0:
        raise NoTradingDay(f"no session before {d} in the calendar's range")
    return cal.dates[i - 1]


def effective_first_session(closed_at: datetime) -> date:
    """The session whose close starts the tracking of a position closed at ``closed_at``.

    The session of ``closed_at``'s New York date when the position was closed before
    that session's close (pre-market included); otherwise (after the close, weekend,
    holiday) the next session.
    """
    return close_day_and_first_session(closed_at)[1]


def close_day_and_first_session(closed_at: datetime) -> tuple[date, date]:
    """(the New York date of ``closed_at``, :func:`effective_first_session`), from one time-zone conversion."""
    local_day = _aware(closed_at).astimezone(NEW_YORK).date()
    cal = _cal()
    if local_day in cal.set and closed_at < cal.closes[local_day]:
        return local_day, local_day
    return local_day, next_session(local_day)


def month_last_session(session: date) -> date:
    """The last session of ``session``'s calendar month."""
    cal = _cal()
    first_of_next = (session.replace(day=28) + timedelta(days=4)).replace(day=1)
    cal.check(first_of_next - timedelta(days=1))
    i = bisect.bisect_left(cal.dates, first_of_next)
    last = cal.dates[i - 1]
    if (last.year, last.month) != (session.year, session.month):
        raise NoTradingDay(f"no session in {session:%Y-%m}")
    return last


def sessions_between(start: date, end: date) -> list[date]:
    """Sessions with start <= session <= end (inclusive), ascending."""
    cal = _cal()
    lo = bisect.bisect_left(cal.dates, start)
    hi = bisect.bisect_right(cal.dates, end)
    return cal.dates[lo:hi]


def sessions_left_in_month(session: date) -> int:
    """How many sessions come after ``session`` in its calendar month (0 on the last one)."""
    return len(sessions_between(session + timedelta(days=1), month_last_session(session)))


def last_completed_session(now: datetime) -> date | None:
    """The latest session whose close is at or before ``now`` (None before the calendar starts)."""
    cal = _cal()
    local_day = _aware(now).astimezone(NEW_YORK).date()
    i = bisect.bisect_right(cal.dates, local_day)
    while i > 0:
        d = cal.dates[i - 1]
        if cal.closes[d] <= now:
            return d
        i -= 1
    return None


def first_session_of_month(d: date) -> date:
    """The first session of ``d``'s calendar month (the EOM job's working day)."""
    first = d.replace(day=1)
    found = sessions_between(first, month_last_session(d))
    return found[0]
