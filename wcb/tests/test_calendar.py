"""NYSE calendar (XNYS via exchange-calendars). Expected values are from the
published NYSE holiday/early-close schedule and the US DST rules, worked by hand:

- 2026 DST: starts Sun 2026-03-08, ends Sun 2026-11-01. So 16:00 ET is 21:00 UTC in
  EST (Jan–Mar 6, Nov 2–Dec) and 20:00 UTC in EDT (Mar 9–Oct 30).
- Early closes 2026 (13:00 ET): Fri 2026-11-27 (after Thanksgiving) → 18:00 UTC (EST);
  Thu 2026-12-24 → 18:00 UTC.
- Holidays used: 2026-01-01, 2026-04-03 (Good Friday), 2026-07-03 (Independence Day
  observed, July 4 is a Saturday), 2026-11-26 (Thanksgiving), 2026-12-25; 2024-03-29
  (Good Friday, the last weekday of March 2024).
"""

from datetime import date, datetime, timezone

import pytest

from wcb import calendar as nyse

UTC = timezone.utc


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2026, 1, 1), False),
        (date(2026, 1, 2), True),
        (date(2026, 4, 3), False),
        (date(2026, 7, 3), False),
        (date(2026, 11, 26), False),
        (date(2026, 11, 27), True),
        (date(2026, 12, 25), False),
        (date(2026, 4, 18), False),  # Saturday
        (date(2024, 3, 29), False),
    ],
)
def test_is_session(day, expected):
    assert nyse.is_session(day) is expected


@pytest.mark.parametrize(
    "day, close",
    [
        (date(2026, 3, 6), datetime(2026, 3, 6, 21, 0, tzinfo=UTC)),  # EST
        (date(2026, 3, 9), datetime(2026, 3, 9, 20, 0, tzinfo=UTC)),  # EDT, first session after DST start
        (date(2026, 10, 30), datetime(2026, 10, 30, 20, 0, tzinfo=UTC)),  # EDT
        (date(2026, 11, 2), datetime(2026, 11, 2, 21, 0, tzinfo=UTC)),  # EST, first session after DST end
        (date(2026, 11, 27), datetime(2026, 11, 27, 18, 0, tzinfo=UTC)),  # early close 13:00 EST
        (date(2026, 12, 24), datetime(2026, 12, 24, 18, 0, tzinfo=UTC)),  # early close 13:00 EST
    ],
)
def test_session_close_utc(day, close):
    got = nyse.session_close_utc(day)
    assert got == close
    assert got.utcoffset().total_seconds() == 0


def test_session_close_of_a_holiday_is_an_error():
    with pytest.raises(ValueError):
        nyse.session_close_utc(date(2026, 11, 26))


@pytest.mark.parametrize(
    "closed_at, first",
    [
        (datetime(2026, 4, 15, 14, 0, tzinfo=UTC), date(2026, 4, 15)),  # 10:00 EDT, intraday
        (datetime(2026, 4, 15, 11, 0, tzinfo=UTC), date(2026, 4, 15)),  # 07:00 EDT, pre-market
        (datetime(2026, 4, 15, 19, 59, 59, tzinfo=UTC), date(2026, 4, 15)),
        (datetime(2026, 4, 15, 20, 0, tzinfo=UTC), date(2026, 4, 16)),  # exactly at the close: not before it
        (datetime(2026, 4, 15, 20, 30, tzinfo=UTC), date(2026, 4, 16)),  # after hours
        (datetime(2026, 4, 16, 2, 0, tzinfo=UTC), date(2026, 4, 16)),  # 22:00 EDT on 04-15
        (datetime(2026, 4, 18, 15, 0, tzinfo=UTC), date(2026, 4, 20)),  # Saturday → Monday
        (datetime(2026, 4, 3, 15, 0, tzinfo=UTC), date(2026, 4, 6)),  # Good Friday → Monday
        (datetime(2026, 11, 26, 16, 0, tzinfo=UTC), date(2026, 11, 27)),  # Thanksgiving → early-close Friday
        (datetime(2026, 11, 27, 17, 59, tzinfo=UTC), date(2026, 11, 27)),  # 12:59 EST, before the early close
        (datetime(2026, 11, 27, 18, 30, tzinfo=UTC), date(2026, 11, 30)),  # 13:30 EST, after the early close
        (datetime(2026, 3, 6, 20, 30, tzinfo=UTC), date(2026, 3, 6)),  # 15:30 EST: before the close
        (datetime(2026, 3, 9, 20, 30, tzinfo=UTC), date(2026, 3, 10)),  # 16:30 EDT: after the close
        (datetime(2026, 10, 30, 20, 30, tzinfo=UTC), date(2026, 11, 2)),  # 16:30 EDT Friday: after
        (datetime(2026, 11, 2, 20, 30, tzinfo=UTC), date(2026, 11, 2)),  # 15:30 EST: before
    ],
)
def test_effective_first_session(closed_at, first):
    assert nyse.effective_first_session(closed_at) == first


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError):
        nyse.effective_first_session(datetime(2026, 4, 15, 14, 0))
    with pytest.raises(ValueError):
        nyse.last_completed_session(datetime(2026, 4, 15, 14, 0))


@pytest.mark.parametrize(
    "day, last",
    [
        (date(2026, 1, 5), date(2026, 1, 30)),  # Jan 31 is a Saturday
        (date(2026, 11, 2), date(2026, 11, 30)),
        (date(2026, 12, 1), date(2026, 12, 31)),
        (date(2024, 3, 20), date(2024, 3, 28)),  # Mar 29 2024 was Good Friday
    ],
)
def test_month_last_session(day, last):
    assert nyse.month_last_session(day) == last


def test_sessions_between_is_inclusive_and_skips_holidays():
    # Nov 23–30, 2026: Mon 23, Tue 24, Wed 25, (Thu 26 Thanksgiving), Fri 27, (weekend), Mon 30
    assert nyse.sessions_between(date(2026, 11, 23), date(2026, 11, 30)) == [
        date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 30),
    ]
    assert nyse.sessions_between(date(2026, 11, 26), date(2026, 11, 26)) == []


@pytest.mark.parametrize(
    "day, left",
    [
        (date(2026, 11, 23), 4),  # 24, 25, 27, 30
        (date(2026, 11, 24), 3),  # 25, 27, 30
        (date(2026, 11, 30), 0),
        (date(2024, 3, 25), 3),  # 26, 27, 28 (29 Good Friday)
    ],
)
def test_sessions_left_in_month(day, left):
    assert nyse.sessions_left_in_month(day) == left


@pytest.mark.parametrize(
    "now, expected",
    [
        (datetime(2026, 4, 15, 19, 59, tzinfo=UTC), date(2026, 4, 14)),  # before the close
        (datetime(2026, 4, 15, 20, 0, tzinfo=UTC), date(2026, 4, 15)),  # at the close
        (datetime(2026, 4, 18, 12, 0, tzinfo=UTC), date(2026, 4, 17)),  # Saturday → Friday
        (datetime(2026, 11, 27, 18, 0, tzinfo=UTC), date(2026, 11, 27)),  # early close reached
        (datetime(2026, 11, 27, 17, 0, tzinfo=UTC), date(2026, 11, 25)),  # before it; 26 was Thanksgiving
        (datetime(2026, 4, 16, 1, 0, tzinfo=UTC), date(2026, 4, 15)),  # 21:00 EDT on the 15th
    ],
)
def test_last_completed_session(now, expected):
    assert nyse.last_completed_session(now) == expected


def test_next_previous_and_first_session_of_month():
    assert nyse.next_session(date(2026, 11, 25)) == date(2026, 11, 27)
    assert nyse.previous_session(date(2026, 11, 27)) == date(2026, 11, 25)
    assert nyse.first_session_of_month(date(2026, 1, 20)) == date(2026, 1, 2)
    assert nyse.first_session_of_month(date(2026, 6, 30)) == date(2026, 6, 1)


# --- how the calendar is loaded: the library's schedule, built outside the worker ---------------------


def test_the_schedule_is_the_librarys():
    import warnings

    import exchange_calendars as xcals

    start, end = nyse.calendar_range()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' own deprecations inside the library
        closes = xcals.get_calendar("XNYS", start=start.isoformat(), end=end.isoformat()).schedule["close"]
    cal = nyse._cal()
    assert cal.dates == [ts.date() for ts in closes.index]
    assert cal.closes == {ts.date(): close.to_pydatetime().astimezone(UTC) for ts, close in closes.items()}


def test_a_cached_schedule_is_read_without_building_it_again(tmp_path, settings, monkeypatch):
    settings.WCB_CALENDAR_CACHE_DIR = str(tmp_path / "calendar")
    start, end = nyse.calendar_range()
    built = nyse._load_schedule(start, end)  # a child process builds it, the file keeps it
    assert [p.name for p in (tmp_path / "calendar").iterdir()] == [nyse._cache_file(start, end).name]

    def no_build(*args):
        raise AssertionError("built again")

    monkeypatch.setattr(nyse, "_build_in_child", no_build)
    monkeypatch.setattr(nyse, "build_schedule", no_build)
    assert nyse._load_schedule(start, end) == built


def test_a_child_that_cannot_run_falls_back_to_this_process(tmp_path, settings, monkeypatch, caplog):
    settings.WCB_CALENDAR_CACHE_DIR = str(tmp_path)

    def fails(*args):
        raise OSError("no interpreter here")

    monkeypatch.setattr(nyse, "_build_in_child", fails)
    start, end = nyse.calendar_range()
    assert nyse._load_schedule(start, end) == nyse.build_schedule(start, end)
    assert "could not build it" in caplog.text


def test_a_corrupt_cache_file_is_rebuilt(tmp_path, settings):
    settings.WCB_CALENDAR_CACHE_DIR = str(tmp_path)
    start, end = nyse.calendar_range()
    nyse._cache_file(start, end).write_text("{not json")
    assert nyse._load_schedule(start, end) == nyse.build_schedule(start, end)


def test_the_render_and_job_paths_never_import_pandas(tmp_path):
    """A fresh worker process: calendar, the render's computation and a job chunk's, with an empty calendar cache."""
    import subprocess
    import sys

    from django.conf import settings as django_settings

    probe = f"""
import os, sys
from datetime import datetime, timezone
from decimal import Decimal
import django
django.setup()
from django.conf import settings
settings.WCB_CALENDAR_CACHE_DIR = {str(tmp_path)!r}
settings.MARKET_DATA_PROVIDER = "fixture"
from wcb import calendar as nyse, jobs, selectors
from wcb.models import WcbSnapshot
closed = datetime(2026, 4, 15, 18, 0, tzinfo=timezone.utc)
snap = WcbSnapshot(symbol="AAPL", tracking_horizon="monthly", close_timestamp_utc=closed, close_price=Decimal("110"),
                   cost_basis=Decimal("90"), position_size_signed=Decimal("10"), close_commission=Decimal("1"),
                   multiplier=1, asset_type="equity", horizon_reached=False)
now = datetime(2026, 5, 1, 23, 0, tzinfo=timezone.utc)
payload = selectors.trajectory_payload(snap, "monthly", now)
assert payload["tracking_days"] > 5, payload
row = ("00000000-0000-0000-0000-000000000001", "AAPL", "equity", Decimal("10"), Decimal("90"), Decimal("110"),
       Decimal("1"), 1, closed, "close_of_market_only")
data, failed = jobs._fetch([("AAPL", closed, nyse.last_completed_session(now))], "eod", None)
updates, counts = jobs._compute_batch([row], data, now, {{}})
assert counts == (1, 0, 0), counts
heavy = sorted(m for m in ("pandas", "numpy", "exchange_calendars") if m in sys.modules)
print("heavy:", ",".join(heavy))
"""
    env = {**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "raxx.settings_test",
           "MARKET_DATA_FIXTURES_DIR": django_settings.MARKET_DATA_FIXTURES_DIR}
    done = subprocess.run([sys.executable, "-c", probe], cwd=django_settings.BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "heavy:"
