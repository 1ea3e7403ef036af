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
