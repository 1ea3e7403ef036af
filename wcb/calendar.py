"""The NYSE trading calendar, from the maintained ``exchange-calendars`` library (XNYS).

No hand-written holiday list: sessions, holidays, early closes (13:00 ET, e.g. the
day after Thanksgiving and Christmas Eve) and DST all come from the library. The
calendar is built once per process and turned into plain Python lists, so the jobs
can call these functions for thousands of rows without touching pandas.

The library needs pandas (about 50 MB of a process's memory once imported), so the web
and Celery workers never import it: the schedule is built by ``python -m wcb.calendar``
in a short-lived child process, which prints it as JSON, and the worker keeps the parsed
lists (well under 1 MB). The JSON is also kept in a per-user cache file named after the
library's version and the range, so later processes of the same release on the same
machine read it instead of spawning the child (a new library version or range means a
new file). If the child cannot run, the worker builds the calendar itself and logs why.

Dates are NYSE session dates (New York calendar days). Datetimes are aware; naive
datetimes are rejected (``ValueError``), never guessed.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import subprocess
import sys
import tempfile
import warnings
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

NEW_YORK = ZoneInfo("America/New_York")
CALENDAR_START = date(2015, 1, 1)
LIBRARY = "exchange-calendars"
BUILD_TIMEOUT_S = 120
_PROJECT_ROOT = Path(__file__).resolve().parent.parent


class NoTradingDay(ValueError):
    """The calendar has no session where one was needed (outside its range; design revision §12)."""


class _Sessions:
    def __init__(self, schedule: list[tuple[int, int]]):
        """``schedule``: (date ordinal, close as POSIX seconds) per session, ascending."""
        self.dates: list[date] = [date.fromordinal(day) for day, _ in schedule]
        self.closes: dict[date, datetime] = {
            d: datetime.fromtimestamp(close, tz=timezone.utc) for d, (_, close) in zip(self.dates, schedule)
        }
        self.set = set(self.dates)

    def check(self, d: date) -> None:
        if not self.dates[0] <= d <= self.dates[-1]:
            raise NoTradingDay(f"{d} is outside the trading calendar's range ({self.dates[0]}..{self.dates[-1]})")


def calendar_range(today: date | None = None) -> tuple[date, date]:
    """The range the calendar is built for.

    The library's default range ends a year after today; make sure it reaches at least
    the end of next year so a month-end lookup never falls off the edge.
    """
    today = today or date.today()
    return CALENDAR_START, max(today + timedelta(days=400), date(today.year + 1, 12, 31))


def build_schedule(start: date, end: date) -> list[tuple[int, int]]:
    """The XNYS sessions from the library: (date ordinal, close as POSIX seconds). Imports pandas."""
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        # exchange-calendars 4.13 trips pandas' own deprecation warnings internally
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        cal = xcals.get_calendar("XNYS", start=start.isoformat(), end=end.isoformat())
        closes = cal.schedule["close"]
    return [(ts.date().toordinal(), int(close.timestamp())) for ts, close in closes.items()]


def _library_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(LIBRARY)
    except PackageNotFoundError:
        return "unknown"


def _cache_dir() -> Path:
    try:
        from django.conf import settings

        configured = getattr(settings, "WCB_CALENDAR_CACHE_DIR", "")
    except Exception:  # used without Django settings (the child process, a script)
        configured = ""
    return Path(configured) if configured else Path(tempfile.gettempdir()) / f"raxx-wcb-calendar-{os.getuid()}"


def _cache_file(start: date, end: date) -> Path:
    return _cache_dir() / f"xnys-{_library_version()}-{start.isoformat()}-{end.isoformat()}.json"


def _private(folder: Path) -> bool:
    """A directory this user owns (a cache file elsewhere could have been planted by anyone)."""
    try:
        return folder.is_dir() and folder.stat().st_uid == os.getuid()
    except OSError:
        return False


def _read_cached(path: Path) -> list[tuple[int, int]] | None:
    if not _private(path.parent):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            schedule = [(int(day), int(close)) for day, close in json.load(fh)]
    except (OSError, ValueError, TypeError):
        return None
    return schedule or None


def _write_cached(path: Path, schedule: list[tuple[int, int]]) -> None:
    """Atomically (a half-written file is never read); older ranges and versions are removed."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(path.parent):
            return  # someone else's directory: keep the calendar in memory only
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".xnys-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(schedule, fh)
        os.replace(tmp, path)
        for old in path.parent.glob("xnys-*.json"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("trading calendar: cache file %s not written (%s)", path, exc)


def _build_in_child(start: date, end: date) -> list[tuple[int, int]]:
    done = subprocess.run([sys.executable, "-m", "wcb.calendar", start.isoformat(), end.isoformat()],
                          cwd=_PROJECT_ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=True)
    return [(int(day), int(close)) for day, close in json.loads(done.stdout)]


def _load_schedule(start: date, end: date) -> list[tuple[int, int]]:
    path = _cache_file(start, end)
    cached = _read_cached(path)
    if cached is not None:
        return cached
    try:
        schedule = _build_in_child(start, end)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        logger.warning("trading calendar: the child process could not build it (%r); building it in this process",
                       exc)
        schedule = build_schedule(start, end)
    _write_cached(path, schedule)
    return schedule


@lru_cache(maxsize=1)
def _cal() -> _Sessions:
    return _Sessions(_load_schedule(*calendar_range()))


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


if __name__ == "__main__":  # the child process of _load_schedule: the schedule as JSON on stdout
    json.dump(build_schedule(date.fromisoformat(sys.argv[1]), date.fromisoformat(sys.argv[2])), sys.stdout)
