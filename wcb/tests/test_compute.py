"""The WCB arithmetic (CONTRACTS §4). Every expected number below is worked by hand
in the comment next to it, from the formulas

    actual_pnl = (close_price − cost_basis) × q × m − c
    pnl(d)     = (close(d) × r(d) − cost_basis) × q × m + D(d) × q × m − c

never from the code under test. Market data is tiny hand-written MarketData objects.
UTC ↔ New York: EDT = UTC−4 (2026-03-08 .. 2026-10-31), EST = UTC−5 otherwise;
the close is 16:00 ET (20:00 UTC in EDT, 21:00 UTC in EST), 13:00 ET on early closes.
"""

import re
from datetime import date, datetime, timezone
from decimal import Decimal as D

import pytest

from wcb import calendar as nyse
from wcb.compute import (
    HORIZON_EOD,
    HORIZON_EOM,
    PositionInput,
    actual_pnl,
    compute,
    horizon_session_for,
)
from wcb.market_data import Bar, CorporateAction, MarketData

UTC = timezone.utc


def at(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def pos(**kw):
    values = dict(
        symbol="AAPL",
        asset_type="equity",
        quantity=D("50"),
        cost_basis=D("170.12"),
        close_price=D("182.34"),
        close_commission=D("0"),
        multiplier=1,
        closed_at=at(2026, 4, 15, 14, 0),  # 10:00 EDT
        horizon=HORIZON_EOD,
    )
    values.update(kw)
    return PositionInput(**values)


def bar(d, close, open_=None):
    close = D(str(close))
    open_ = D(str(open_)) if open_ is not None else close
    return Bar(date=d, open=open_, high=max(open_, close), low=min(open_, close), close=close, volume=1000)


def month(start, end, close, **overrides):
    """A bar for every session in [start, end] at ``close``, except the dates overridden."""
    special = {date.fromisoformat(k.lstrip("d").replace("_", "-")): v for k, v in overrides.items()}
    return [bar(d, special.get(d, close)) for d in nyse.sessions_between(start, end)]


def data(bars, actions=(), source="fixture"):
    return MarketData(symbol="AAPL", bars=tuple(bars), actions=tuple(actions), source=source)


def div(d, amount):
    return CorporateAction("dividend", d, cash_amount=D(amount))


def split(d, old, new):
    return CorporateAction("split", d, old_rate=D(old), new_rate=D(new))


# --- long, short, commission, multiplier ------------------------------------------------


def test_long_eod_design_example():
    # closed 2026-04-15 10:00 EDT, intraday → first = horizon = 2026-04-15, close 20:00 UTC.
    # actual = (182.34 − 170.12) × 50 = 12.22 × 50 = 611.00
    # would  = (185.62 − 170.12) × 50 = 15.50 × 50 = 775.00 ; delta = 164.00
    p = pos()
    result = compute(p, data([bar(date(2026, 4, 15), "185.62")]), as_of=at(2026, 4, 15, 22))
    assert result.first_session == result.horizon_session == date(2026, 4, 15)
    assert result.horizon_timestamp_utc == at(2026, 4, 15, 20)
    assert result.actual_pnl == D("611.00")
    assert result.horizon_price == D("185.62")
    assert result.would_have_pnl == D("775.00")
    assert result.delta_pnl == D("164.00")
    assert result.split_ratio_applied == D("1")
    assert result.dividends_in_window == D("0")
    assert result.trajectory == ((date(2026, 4, 15), D("775.00")),)
    assert result.horizon_reached is True
    assert result.data_source == "fixture"
    assert result.notes == ()
    assert result.options_caveat is None
    assert result.tracking_days == 1
    assert result.data_as_of_utc == at(2026, 4, 15, 20)
    assert result.finalizable_after_utc == at(2026, 4, 15, 20)


def test_short_with_commission():
    # short 100 at 50.00, bought back at 48.00, commission 1.50:
    # actual = (48.00 − 50.00) × (−100) − 1.50 = 200 − 1.50 = 198.50
    # horizon close 47.25: would = (47.25 − 50.00) × (−100) − 1.50 = 275 − 1.50 = 273.50
    # delta = 273.50 − 198.50 = 75.00
    p = pos(quantity=D("-100"), cost_basis=D("50.00"), close_price=D("48.00"), close_commission=D("1.50"))
    result = compute(p, data([bar(date(2026, 4, 15), "47.25")]), as_of=at(2026, 4, 15, 22))
    assert result.actual_pnl == D("198.50")
    assert result.would_have_pnl == D("273.50")
    assert result.delta_pnl == D("75.00")
    assert result.trajectory == ((date(2026, 4, 15), D("273.50")),)


def test_short_that_rose_after_the_close():
    # short 10 at 100, covered at 90 (actual = (90 − 100) × (−10) = 100.00);
    # the close was 95: would = (95 − 100) × (−10) = 50.00, delta = −50.00
    p = pos(quantity=D("-10"), cost_basis=D("100"), close_price=D("90"))
    result = compute(p, data([bar(date(2026, 4, 15), "95")]), as_of=at(2026, 4, 15, 22))
    assert (result.actual_pnl, result.would_have_pnl, result.delta_pnl) == (D("100"), D("50"), D("-50"))


def test_multiplier():
    # q = 3, m = 10: actual = (21 − 20) × 3 × 10 = 30.00
    # would = (22.50 − 20) × 3 × 10 = 75.00 ; delta = 45.00
    p = pos(quantity=D("3"), multiplier=10, cost_basis=D("20"), close_price=D("21"))
    result = compute(p, data([bar(date(2026, 4, 15), "22.50")]), as_of=at(2026, 4, 15, 22))
    assert result.actual_pnl == D("30")
    assert result.would_have_pnl == D("75")
    assert result.delta_pnl == D("45")


def test_actual_pnl_quantized_to_six_places():
    # (10.1234567 − 10) × 3 = 0.3703701 → 0.370370 (6 places, half-up)
    p = pos(quantity=D("3"), cost_basis=D("10"), close_price=D("10.1234567"))
    assert actual_pnl(p) == D("0.370370")


def test_trajectory_rounds_half_up_to_cents():
    # q = 1, cost 10: pnl = 10.005 − 10 = 0.005 → 0.01 (half-up); would_have_pnl keeps 0.005000
    p = pos(quantity=D("1"), cost_basis=D("10"), close_price=D("10"))
    result = compute(p, data([bar(date(2026, 4, 15), "10.005")]), as_of=at(2026, 4, 15, 22))
    assert result.trajectory == ((date(2026, 4, 15), D("0.01")),)
    assert result.would_have_pnl == D("0.005000")


# --- splits and dividends ----------------------------------------------------------------


JUNE = dict(start=date(2026, 6, 8), end=date(2026, 6, 30))


def test_split_in_the_window_eom():
    # closed Mon 2026-06-08 11:00 EDT, EOM → horizon Tue 2026-06-30 (20:00 UTC).
    # 4-for-1 split ex 2026-06-10: r = 1 before, 4 from 06-10 on.
    # q = 10, cost 700, close 750: actual = 50 × 10 = 500.00
    # pnl(06-08) close 752   : (752 − 700) × 10 = 520.00
    # pnl(06-09) close 760   : (760 − 700) × 10 = 600.00
    # pnl(06-10) close 190.50: (190.50 × 4 − 700) × 10 = (762 − 700) × 10 = 620.00
    # pnl(06-30) close 200   : (200 × 4 − 700) × 10 = 1000.00 ; delta = 500.00
    # June 8–30 sessions: 8 9 10 11 12 15 16 17 18 (19 Juneteenth) 22 23 24 25 26 29 30 = 16
    p = pos(quantity=D("10"), cost_basis=D("700"), close_price=D("750"), closed_at=at(2026, 6, 8, 15), horizon=HORIZON_EOM)
    bars = month(JUNE["start"], JUNE["end"], "190", d2026_06_08="752", d2026_06_09="760", d2026_06_10="190.50", d2026_06_30="200")
    result = compute(p, data(bars, [split(date(2026, 6, 10), 1, 4)]), as_of=at(2026, 6, 30, 21))
    assert result.horizon_session == date(2026, 6, 30)
    assert result.horizon_timestamp_utc == at(2026, 6, 30, 20)
    assert result.horizon_reached is True
    assert result.actual_pnl == D("500")
    assert result.horizon_price == D("200")  # raw, as traded
    assert result.split_ratio_applied == D("4")
    assert result.would_have_pnl == D("1000")
    assert result.delta_pnl == D("500")
    assert len(result.trajectory) == 16 == result.tracking_days
    assert result.trajectory[:3] == (
        (date(2026, 6, 8), D("520.00")),
        (date(2026, 6, 9), D("600.00")),
        (date(2026, 6, 10), D("620.00")),
    )
    assert result.trajectory[-1] == (date(2026, 6, 30), D("1000.00"))
    assert any("4-for-1 split took effect on 2026-06-10" in n for n in result.notes)


def test_dividend_after_a_split_counts_per_share_held_at_the_close():
    # as above, plus a dividend of 0.01 per (post-split) share ex 2026-06-22:
    # D = 0.01 × r(06-22) = 0.01 × 4 = 0.04 per share held at the close
    # would = 1000 + 0.04 × 10 = 1000.40 ; dividends_in_window = 0.04
    p = pos(quantity=D("10"), cost_basis=D("700"), close_price=D("750"), closed_at=at(2026, 6, 8, 15), horizon=HORIZON_EOM)
    bars = month(JUNE["start"], JUNE["end"], "190", d2026_06_30="200")
    actions = [split(date(2026, 6, 10), 1, 4), div(date(2026, 6, 22), "0.01")]
    result = compute(p, data(bars, actions), as_of=at(2026, 6, 30, 21))
    assert result.dividends_in_window == D("0.04")
    assert result.would_have_pnl == D("1000.40")


def test_reverse_split():
    # 1-for-10 reverse split ex 2026-06-10 (old 10, new 1): r = 0.1
    # q = 100, cost 2, close 2.10 (actual = 10.00); horizon close 25 → (25 × 0.1 − 2) × 100 = 50.00
    p = pos(quantity=D("100"), cost_basis=D("2"), close_price=D("2.10"), closed_at=at(2026, 6, 8, 15), horizon=HORIZON_EOM)
    bars = month(JUNE["start"], JUNE["end"], "24", d2026_06_08="2.05", d2026_06_09="2.05", d2026_06_30="25")
    result = compute(p, data(bars, [split(date(2026, 6, 10), 10, 1)]), as_of=at(2026, 7, 1, 12))
    assert result.split_ratio_applied == D("0.1")
    assert result.would_have_pnl == D("50")


MARCH = dict(start=date(2026, 3, 10), end=date(2026, 3, 31))


def test_dividend_in_the_window_eom():
    # closed Tue 2026-03-10 11:00 EDT, EOM → 2026-03-31. Dividend 0.51 ex 2026-03-13.
    # q = 200, cost 60, close 62: actual = 2 × 200 = 400.00
    # pnl(03-12) close 61: (61 − 60) × 200 = 200.00 (before the ex-date, D = 0)
    # pnl(03-13) close 61: 200 + 0.51 × 200 = 200 + 102 = 302.00
    # pnl(03-31) close 63: (63 − 60) × 200 + 102 = 600 + 102 = 702.00 ; delta = 302.00
    p = pos(quantity=D("200"), cost_basis=D("60"), close_price=D("62"), closed_at=at(2026, 3, 10, 15), horizon=HORIZON_EOM)
    bars = month(MARCH["start"], MARCH["end"], "61", d2026_03_31="63")
    result = compute(p, data(bars, [div(date(2026, 3, 13), "0.51")]), as_of=at(2026, 3, 31, 22))
    assert dict(result.trajectory)[date(2026, 3, 12)] == D("200.00")
    assert dict(result.trajectory)[date(2026, 3, 13)] == D("302.00")
    assert result.dividends_in_window == D("0.51")
    assert result.would_have_pnl == D("702")
    assert result.delta_pnl == D("302")
    assert result.horizon_reached is True


def test_short_pays_the_dividend():
    # q = −200, cost 60, close 62 (actual = (62 − 60) × (−200) = −400.00)
    # would = (63 − 60) × (−200) + 0.51 × (−200) = −600 − 102 = −702.00 ; delta = −302.00
    p = pos(quantity=D("-200"), cost_basis=D("60"), close_price=D("62"), closed_at=at(2026, 3, 10, 15), horizon=HORIZON_EOM)
    bars = month(MARCH["start"], MARCH["end"], "61", d2026_03_31="63")
    result = compute(p, data(bars, [div(date(2026, 3, 13), "0.51")]), as_of=at(2026, 3, 31, 22))
    assert result.would_have_pnl == D("-702")
    assert result.delta_pnl == D("-302")


def test_dividend_on_the_close_date_is_not_counted():
    # closed Fri 2026-03-13 11:00 EDT, the dividend's ex-date: close-date < ex_date fails.
    # would = (61.50 − 60) × 200 = 300.00, dividends_in_window = 0
    p = pos(quantity=D("200"), cost_basis=D("60"), close_price=D("62"), closed_at=at(2026, 3, 13, 15))
    result = compute(p, data([bar(date(2026, 3, 13), "61.50")], [div(date(2026, 3, 13), "0.51")]), as_of=at(2026, 3, 13, 22))
    assert result.dividends_in_window == D("0")
    assert result.would_have_pnl == D("300")
    assert result.horizon_reached is True  # no counted dividend on the horizon: no lag


def test_actions_outside_the_window_are_ignored():
    # a dividend before the close and a split after the EOD horizon change nothing:
    # would = (185.62 − 170.12) × 50 = 775.00
    p = pos()
    actions = [div(date(2026, 4, 10), "5"), split(date(2026, 4, 16), 1, 2), div(date(2026, 4, 20), "5")]
    result = compute(p, data([bar(date(2026, 4, 15), "185.62")], actions), as_of=at(2026, 4, 20, 22))
    assert result.would_have_pnl == D("775")
    assert result.split_ratio_applied == D("1")
    assert result.dividends_in_window == D("0")


def test_close_date_is_the_new_york_date():
    # closed 2026-04-16 02:00 UTC = 2026-04-15 22:00 EDT: close-date 04-15, first session 04-16,
    # so a dividend ex 04-16 counts. q = 50, cost 170.12, bar 04-16 close 180.12:
    # would = (180.12 − 170.12) × 50 + 0.25 × 50 = 500 + 12.50 = 512.50
    p = pos(closed_at=at(2026, 4, 16, 2))
    result = compute(p, data([bar(date(2026, 4, 16), "180.12")], [div(date(2026, 4, 16), "0.25")]), as_of=at(2026, 4, 17, 22))
    assert result.first_session == date(2026, 4, 16)
    assert result.would_have_pnl == D("512.50")


# --- dividend-lag rule (design §5.3) ----------------------------------------------------


def test_dividend_on_the_horizon_session_waits_for_the_next_session():
    # closed Thu 2026-03-12 18:30 EDT (22:30 UTC), after hours → first = EOD horizon = Fri 03-13,
    # close 20:00 UTC. Dividend 0.51 ex 03-13 (close-date 03-12 < 03-13 ≤ 03-13: counted).
    # would = (61.80 − 60) × 200 + 0.51 × 200 = 360 + 102 = 462.00
    p = pos(quantity=D("200"), cost_basis=D("60"), close_price=D("62"), closed_at=at(2026, 3, 12, 22, 30))
    md = data([bar(date(2026, 3, 13), "61.80"), bar(date(2026, 3, 16), "61")], [div(date(2026, 3, 13), "0.51")],
              source="alpaca")
    same_day_run = compute(p, md, as_of=at(2026, 3, 13, 22))  # EOD job on the horizon day
    assert same_day_run.finalizable_after_utc == at(2026, 3, 16, 20)  # Monday's close (EDT)
    assert same_day_run.would_have_pnl == D("462")
    assert same_day_run.horizon_reached is False
    assert any("dividend went ex on the horizon session" in n for n in same_day_run.notes)
    before_next_close = compute(p, md, as_of=at(2026, 3, 16, 19, 59))  # Monday, before its 20:00 UTC close
    assert before_next_close.horizon_reached is False
    next_run = compute(p, md, as_of=at(2026, 3, 16, 22))  # the next session's EOD run
    assert next_run.horizon_reached is True
    assert next_run.would_have_pnl == D("462")
    assert next_run.trajectory == ((date(2026, 3, 13), D("462.00")),)  # never past the horizon
    assert not any("dividend went ex" in n for n in next_run.notes)


def test_fixture_data_is_never_held_by_the_dividend_lag():
    # Same position and data from the offline fixture provider: its corporate actions are
    # complete, so the EOD run on the horizon day finalizes (462.00 as above).
    p = pos(quantity=D("200"), cost_basis=D("60"), close_price=D("62"), closed_at=at(2026, 3, 12, 22, 30))
    md = data([bar(date(2026, 3, 13), "61.80")], [div(date(2026, 3, 13), "0.51")], source="fixture")
    result = compute(p, md, as_of=at(2026, 3, 13, 22))
    assert result.horizon_reached is True and result.would_have_pnl == D("462")
    assert result.finalizable_after_utc == at(2026, 3, 13, 20)


# --- when the position closed -------------------------------------------------------------


def test_after_hours_close_tracks_the_next_session():
    # closed 2026-04-15 16:30 EDT (20:30 UTC) → first = horizon = 04-16, close 20:00 UTC.
    # would = (190.12 − 170.12) × 50 = 1000.00 ; actual 611.00 ; delta 389.00
    p = pos(closed_at=at(2026, 4, 15, 20, 30))
    result = compute(p, data([bar(date(2026, 4, 15), "999"), bar(date(2026, 4, 16), "190.12")]), as_of=at(2026, 4, 16, 22))
    assert result.first_session == result.horizon_session == date(2026, 4, 16)
    assert result.horizon_timestamp_utc == at(2026, 4, 16, 20)
    assert result.would_have_pnl == D("1000")
    assert result.delta_pnl == D("389")
    assert result.trajectory == ((date(2026, 4, 16), D("1000.00")),)  # the 04-15 bar was outside the window
    assert "The position closed after the 16:00 ET close of 2026-04-15; tracking started with the next session, 2026-04-16." in result.notes


def test_weekend_and_early_close_notes():
    sat = compute(pos(closed_at=at(2026, 4, 18, 15)), data([bar(date(2026, 4, 20), "175")]), as_of=at(2026, 4, 20, 22))
    assert "The position closed on 2026-04-18, a day without an NYSE session; tracking started with the next session, 2026-04-20." in sat.notes
    # 13:30 EST on the 11-27 early close (18:30 UTC): the close was 13:00 ET
    late = compute(pos(closed_at=at(2026, 11, 27, 18, 30)), data([bar(date(2026, 11, 30), "175")]), as_of=at(2026, 11, 30, 22))
    assert "The position closed after the 13:00 ET close of 2026-11-27; tracking started with the next session, 2026-11-30." in late.notes


def test_close_on_a_weekend_and_on_a_holiday():
    saturday = pos(closed_at=at(2026, 4, 18, 15))
    assert horizon_session_for(saturday) == (date(2026, 4, 20), date(2026, 4, 20), at(2026, 4, 20, 20))
    good_friday = pos(closed_at=at(2026, 4, 3, 15))
    assert horizon_session_for(good_friday) == (date(2026, 4, 6), date(2026, 4, 6), at(2026, 4, 6, 20))
    # Thanksgiving 2026-11-26 → Friday 11-27, an early close: 13:00 EST = 18:00 UTC
    thanksgiving = pos(closed_at=at(2026, 11, 26, 16))
    assert horizon_session_for(thanksgiving) == (date(2026, 11, 27), date(2026, 11, 27), at(2026, 11, 27, 18))


def test_close_on_an_early_close_day():
    # closed Fri 2026-11-27 11:30 EST (16:30 UTC), before the 13:00 EST early close:
    # horizon = 11-27 at 18:00 UTC; an as_of of 18:30 UTC is after it.
    # would = (172.12 − 170.12) × 50 = 100.00
    p = pos(closed_at=at(2026, 11, 27, 16, 30))
    result = compute(p, data([bar(date(2026, 11, 27), "172.12")]), as_of=at(2026, 11, 27, 18, 30))
    assert result.horizon_timestamp_utc == at(2026, 11, 27, 18)
    assert result.horizon_reached is True
    assert result.would_have_pnl == D("100")
    # 13:30 EST (18:30 UTC) is after the early close → next session Mon 11-30 (close 21:00 UTC)
    late = pos(closed_at=at(2026, 11, 27, 18, 30))
    assert horizon_session_for(late) == (date(2026, 11, 30), date(2026, 11, 30), at(2026, 11, 30, 21))


@pytest.mark.parametrize(
    "closed_at, first, close_utc",
    [
        # March: DST began Sun 03-08. Fri 03-06 closed 21:00 UTC (EST), Mon 03-09 20:00 UTC (EDT).
        (at(2026, 3, 6, 20, 30), date(2026, 3, 6), at(2026, 3, 6, 21)),  # 15:30 EST: before the close
        (at(2026, 3, 9, 20, 30), date(2026, 3, 10), at(2026, 3, 10, 20)),  # 16:30 EDT: after it
        # November: DST ended Sun 11-01. Fri 10-30 closed 20:00 UTC (EDT), Mon 11-02 21:00 UTC (EST).
        (at(2026, 10, 30, 20, 30), date(2026, 11, 2), at(2026, 11, 2, 21)),  # 16:30 EDT: after
        (at(2026, 11, 2, 20, 30), date(2026, 11, 2), at(2026, 11, 2, 21)),  # 15:30 EST: before
    ],
)
def test_dst_march_and_november(closed_at, first, close_utc):
    assert horizon_session_for(pos(closed_at=closed_at)) == (first, first, close_utc)


def test_eom_across_a_holiday_month_end():
    # March 2024: Fri 03-29 was Good Friday, so the month's last session was Thu 03-28,
    # close 16:00 EDT = 20:00 UTC (DST began 2024-03-10).
    # closed Wed 2024-03-20 10:00 EDT. Sessions 03-20..03-28: 20 21 22 25 26 27 28 = 7.
    # q = 50, cost 170.12, horizon close 180.12: would = 10 × 50 = 500.00
    p = pos(closed_at=at(2024, 3, 20, 14), horizon=HORIZON_EOM)
    bars = month(date(2024, 3, 20), date(2024, 3, 28), "175", d2024_03_28="180.12")
    result = compute(p, data(bars), as_of=at(2024, 4, 1, 12))
    assert result.horizon_session == date(2024, 3, 28)
    assert result.horizon_timestamp_utc == at(2024, 3, 28, 20)
    assert result.would_have_pnl == D("500")
    assert len(result.trajectory) == 7
    assert result.near_eom_note is None  # 6 sessions left after 03-20


def test_eom_month_ending_on_a_weekend():
    # January 2026 ended on a Saturday: horizon Fri 2026-01-30, close 21:00 UTC (EST)
    p = pos(closed_at=at(2026, 1, 12, 15), horizon=HORIZON_EOM)
    assert horizon_session_for(p) == (date(2026, 1, 12), date(2026, 1, 30), at(2026, 1, 30, 21))


# --- near-EOM note ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "closed_at, left, covered",
    [
        (at(2026, 11, 24, 15), 3, 4),  # Tue 11-24: 25, 27, 30 left → 4 sessions tracked
        (at(2026, 11, 27, 16), 1, 2),  # Fri 11-27 (early close day): 30 left
        (at(2026, 11, 30, 15), 0, 1),  # Mon 11-30, the month's last session
    ],
)
def test_near_eom_note(closed_at, left, covered):
    p = pos(closed_at=closed_at, horizon=HORIZON_EOM)
    result = compute(p, data(month(date(2026, 11, 23), date(2026, 11, 30), "175")), as_of=at(2026, 12, 1, 12))
    assert result.near_eom_note == (
        f"The position closed with {left} trading day(s) left in the month; "
        f"tracking covered {covered} trading day(s), through 2026-11-30."
        + (" The monthly result matched the close-of-market result." if left == 0 else "")
    )
    assert result.near_eom_note in result.notes
    assert len(result.trajectory) == covered


def test_no_near_eom_note_with_four_sessions_left_or_for_eod():
    md = data(month(date(2026, 11, 23), date(2026, 11, 30), "175"))
    four_left = compute(pos(closed_at=at(2026, 11, 23, 15), horizon=HORIZON_EOM), md, as_of=at(2026, 12, 1, 12))
    assert four_left.near_eom_note is None
    eod = compute(pos(closed_at=at(2026, 11, 30, 15)), md, as_of=at(2026, 12, 1, 12))
    assert eod.near_eom_note is None


def test_last_session_of_month_eom_equals_eod():
    # closed on the month's last session: EOM and EOD gave the same single point.
    # would = (175 − 170.12) × 50 = 4.88 × 50 = 244.00
    md = data(month(date(2026, 11, 23), date(2026, 11, 30), "175"))
    eom = compute(pos(closed_at=at(2026, 11, 30, 15), horizon=HORIZON_EOM), md, as_of=at(2026, 12, 1, 12))
    eod = compute(pos(closed_at=at(2026, 11, 30, 15)), md, as_of=at(2026, 12, 1, 12))
    assert eom.would_have_pnl == eod.would_have_pnl == D("244")
    assert eom.trajectory == eod.trajectory == ((date(2026, 11, 30), D("244.00")),)


# --- in progress ------------------------------------------------------------------------


def test_in_progress_eom_uses_only_sessions_closed_by_as_of():
    # EOM from Tue 03-10; as_of Mon 03-16 21:00 UTC (after its 20:00 UTC close):
    # sessions 10 11 12 13 16 → 5 trajectory points, though the data covers the month.
    # At 03-16 (close 61): pnl = (61 − 60) × 200 + 0.51 × 200 = 302.00; D(03-16) = 0.51
    p = pos(quantity=D("200"), cost_basis=D("60"), close_price=D("62"), closed_at=at(2026, 3, 10, 15), horizon=HORIZON_EOM)
    bars = month(MARCH["start"], MARCH["end"], "61", d2026_03_31="63")
    result = compute(p, data(bars, [div(date(2026, 3, 13), "0.51"), div(date(2026, 3, 20), "9")]), as_of=at(2026, 3, 16, 21))
    assert result.horizon_reached is False
    assert result.horizon_price is None and result.would_have_pnl is None and result.delta_pnl is None
    assert [d for d, _ in result.trajectory] == [date(2026, 3, d) for d in (10, 11, 12, 13, 16)]
    assert result.trajectory[-1] == (date(2026, 3, 16), D("302.00"))
    assert result.dividends_in_window == D("0.51")  # the 03-20 dividend had not happened yet
    assert result.data_as_of_utc == at(2026, 3, 16, 20)
    assert result.actual_pnl == D("400")


def test_before_the_first_session_closes_nothing_is_missing():
    # closed 10:00 EDT, as_of 11:00 EDT the same day: no session closed yet
    p = pos()
    result = compute(p, data([]), as_of=at(2026, 4, 15, 15))
    assert result.trajectory == ()
    assert result.data_source == "fixture"
    assert result.horizon_reached is False
    assert result.notes == ()


# --- options ------------------------------------------------------------------------------


@pytest.mark.parametrize("asset_type", ["call", "put", "multi_leg"])
def test_options_state_the_underlying_move_and_no_option_pnl(asset_type):
    # 2 contracts, m = 100, bought at 3.10, sold at 4.25, commission 1.30:
    # actual = (4.25 − 3.10) × 2 × 100 − 1.30 = 230 − 1.30 = 228.70 (the user's own prices)
    # underlying: open 180.00 → close 185.62: 5.62 / 180 = 3.1222…% → +3.12%
    p = pos(asset_type=asset_type, quantity=D("2"), multiplier=100, cost_basis=D("3.10"), close_price=D("4.25"), close_commission=D("1.30"))
    result = compute(p, data([bar(date(2026, 4, 15), "185.62", open_="180.00")]), as_of=at(2026, 4, 15, 22))
    assert result.actual_pnl == D("228.70")
    assert result.would_have_pnl is None and result.delta_pnl is None
    assert result.trajectory == ()
    assert result.horizon_price == D("185.62")  # the underlying's raw close
    assert result.underlying_trajectory == ((date(2026, 4, 15), D("185.62")),)
    assert result.horizon_reached is True
    assert result.options_caveat == (
        "The underlying (AAPL) moved from $180.00 at the open of 2026-04-15 to $185.62 at the close of "
        "2026-04-15 (+3.12%). The option's value also depended on implied volatility and time decay, "
        "which were not reflected here; no option P&L was computed for this window."
    )


def test_option_caveat_split_adjusted_and_without_data():
    # EOM call from 06-08; open 06-08 760.00; 4-for-1 ex 06-10; horizon close 200 → 200 × 4 = 800.00
    # (800 − 760) / 760 = 5.263…% → +5.26%
    p = pos(asset_type="call", quantity=D("1"), multiplier=100, cost_basis=D("5"), close_price=D("6"),
            closed_at=at(2026, 6, 8, 15), horizon=HORIZON_EOM)
    bars = month(JUNE["start"], JUNE["end"], "190", d2026_06_30="200")
    bars[0] = bar(date(2026, 6, 8), "752", open_="760.00")
    result = compute(p, data(bars, [split(date(2026, 6, 10), 1, 4)]), as_of=at(2026, 7, 1, 12))
    assert result.options_caveat.startswith(
        "The underlying (AAPL) moved from $760.00 at the open of 2026-06-08 to $800.00 at the close of "
        "2026-06-30 (split-adjusted) (+5.26%)."
    )
    empty = compute(p, data([]), as_of=at(2026, 7, 1, 12))
    assert empty.options_caveat.startswith("No prices for the underlying (AAPL) were available for this window.")
    assert empty.data_source == "unavailable"


def test_equity_has_no_options_caveat():
    assert compute(pos(), data([bar(date(2026, 4, 15), "180")]), as_of=at(2026, 4, 16, 12)).options_caveat is None


# --- spinoff, gaps, no data ---------------------------------------------------------------


def test_spinoff_note():
    p = pos(closed_at=at(2026, 6, 8, 15), horizon=HORIZON_EOM)
    bars = month(JUNE["start"], JUNE["end"], "175")
    spinoff = CorporateAction("spinoff", date(2026, 6, 30))
    result = compute(p, data(bars, [spinoff]), as_of=at(2026, 7, 1, 12))
    assert result.spinoff_detected is True
    assert result.spinoff_note == (
        "A corporate spinoff occurred during this window (ex-date 2026-06-30). "
        "Tracking reflected the original security only."
    )
    assert result.spinoff_note in result.notes
    # the spinoff is informational: no price adjustment, would = (175 − 170.12) × 50 = 244.00
    assert result.would_have_pnl == D("244")
    # before its ex-date had come, it had not occurred
    early = compute(p, data(bars, [spinoff]), as_of=at(2026, 6, 15, 21))
    assert early.spinoff_detected is False and early.spinoff_note is None
    # a spinoff on the close date is outside the window
    on_close = compute(p, data(bars, [CorporateAction("spinoff", date(2026, 6, 8))]), as_of=at(2026, 7, 1, 12))
    assert on_close.spinoff_detected is False


def test_no_market_data():
    result = compute(pos(), data([], source="alpaca"), as_of=at(2026, 4, 16, 12))
    assert result.data_source == "unavailable"
    assert result.horizon_reached is False
    assert result.horizon_price is None and result.would_have_pnl is None and result.delta_pnl is None
    assert result.trajectory == ()
    assert result.actual_pnl == D("611")
    assert "Market data was unavailable for this position." in result.notes


def test_missing_horizon_bar_is_no_market_data():
    # EOM through 2026-09-30, but the data has no bar for 09-30: stays pending, unavailable
    p = pos(closed_at=at(2026, 9, 28, 15), horizon=HORIZON_EOM)
    md = data([bar(date(2026, 9, 28), "171"), bar(date(2026, 9, 29), "172")])
    result = compute(p, md, as_of=at(2026, 10, 1, 12))
    assert result.data_source == "unavailable"
    assert result.horizon_reached is False and result.would_have_pnl is None
    # the points that existed are still there: (171 − 170.12) × 50 = 44.00, (172 − 170.12) × 50 = 94.00
    assert result.trajectory == ((date(2026, 9, 28), D("44.00")), (date(2026, 9, 29), D("94.00")))


def test_gap_inside_the_window_is_noted_and_skipped():
    # EOM from Mon 04-06; no bars 04-07..04-10; horizon 04-30 close 180.12 → (10) × 50 = 500.00
    p = pos(closed_at=at(2026, 4, 6, 15), horizon=HORIZON_EOM)
    bars = [b for b in month(date(2026, 4, 6), date(2026, 4, 30), "175", d2026_04_30="180.12")
            if not date(2026, 4, 7) <= b.date <= date(2026, 4, 10)]
    result = compute(p, data(bars), as_of=at(2026, 5, 1, 12))
    assert result.horizon_reached is True
    assert result.would_have_pnl == D("500")
    assert result.data_source == "fixture"
    assert result.missing_sessions == tuple(date(2026, 4, d) for d in (7, 8, 9, 10))
    assert any("missing for 4 session(s)" in n for n in result.notes)
    assert len(result.trajectory) == len(nyse.sessions_between(date(2026, 4, 6), date(2026, 4, 30))) - 4


# --- validation and copy ------------------------------------------------------------------


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError):
        compute(pos(asset_type="future"), data([]), as_of=at(2026, 4, 16))
    with pytest.raises(ValueError):
        compute(pos(horizon="weekly"), data([]), as_of=at(2026, 4, 16))
    with pytest.raises(ValueError):
        compute(pos(), data([]), as_of=datetime(2026, 4, 16))
    with pytest.raises(ValueError):
        horizon_session_for(pos(closed_at=datetime(2026, 4, 15, 14)))


FORWARD_OR_EMOTIVE = re.compile(
    r"\b(will|would|shall|expect\w*|likely|tends?|should|could|might|forecast\w*|predict\w*|project\w*|"
    r"future|better|worse|unfortunately|sadly|luckily|regret\w*|missed|great|amazing|terrible|sorry)\b",
    re.IGNORECASE,
)


def _all_copy():
    """Every note and caveat the scenarios above produce."""
    md_june = data(month(JUNE["start"], JUNE["end"], "190", d2026_06_30="200"),
                   [split(date(2026, 6, 10), 1, 4), CorporateAction("spinoff", date(2026, 6, 22))])
    scenarios = [
        (pos(closed_at=at(2026, 6, 8, 15), horizon=HORIZON_EOM), md_june, at(2026, 7, 1, 12)),
        (pos(asset_type="put", closed_at=at(2026, 6, 8, 15), horizon=HORIZON_EOM), md_june, at(2026, 7, 1, 12)),
        (pos(asset_type="multi_leg"), data([]), at(2026, 4, 16, 12)),
        (pos(closed_at=at(2026, 11, 30, 15), horizon=HORIZON_EOM), data(month(date(2026, 11, 30), date(2026, 11, 30), "1")), at(2026, 12, 1)),
        (pos(closed_at=at(2026, 11, 26, 15)), data([]), at(2026, 12, 1)),
        (pos(closed_at=at(2026, 3, 12, 22, 30)), data([bar(date(2026, 3, 13), "61")], [div(date(2026, 3, 13), "1")]), at(2026, 3, 13, 22)),
        (pos(closed_at=at(2026, 4, 6, 15), horizon=HORIZON_EOM), data([bar(date(2026, 4, 6), "1")]), at(2026, 4, 9, 22)),
    ]
    copy = []
    for p, md, as_of in scenarios:
        result = compute(p, md, as_of=as_of)
        copy.extend(result.notes)
        copy.extend(filter(None, [result.options_caveat, result.near_eom_note, result.spinoff_note]))
    return copy


def test_copy_is_past_tense_and_retrospective():
    copy = _all_copy()
    assert len(copy) >= 8
    for text in copy:
        assert not FORWARD_OR_EMOTIVE.search(text), text


def test_eom_dividend_on_the_month_last_session_is_held_into_the_next_month():
    # KO-like: dividend 0.53 ex Mon 2026-11-30, November's last session (EST, close 21:00 UTC).
    # EOM from 11-24 (q = 100, cost 60, close 61). Horizon close 62:
    # would = (62 − 60) × 100 + 0.53 × 100 = 200 + 53 = 253.00
    # The EOM beat at 02:00 UTC on 12-01 is still before the next session's close
    # (Tue 12-01 21:00 UTC): held; finalizable after that close.
    p = pos(quantity=D("100"), cost_basis=D("60"), close_price=D("61"), closed_at=at(2026, 11, 24, 15), horizon=HORIZON_EOM)
    md = data(month(date(2026, 11, 24), date(2026, 12, 1), "61", d2026_11_30="62"), [div(date(2026, 11, 30), "0.53")],
              source="alpaca")
    eom_beat = compute(p, md, as_of=at(2026, 12, 1, 2))
    assert eom_beat.would_have_pnl == D("253")
    assert eom_beat.horizon_reached is False
    assert eom_beat.finalizable_after_utc == at(2026, 12, 1, 21)
    assert compute(p, md, as_of=at(2026, 12, 1, 22)).horizon_reached is True
