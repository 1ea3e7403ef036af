"""The 95% intervals, against values worked by hand and against scipy (a test-only dependency)."""

from decimal import Decimal

import pytest

from journal.stats import mean_interval, t_quantile_975, wilson_interval


def test_wilson_worked_by_hand():
    # 2 wins of 4, z = 1.96: centre (0.5 + z²/8) / (1 + z²/4) = 0.5; half = z·√(1/16 + z²/64) / (1 + z²/4) = 0.34996
    low, high = wilson_interval(2, 4)
    assert low == pytest.approx(0.150039, abs=1e-6) and high == pytest.approx(0.849961, abs=1e-6)


def test_wilson_ends_are_exact_and_empty_is_null():
    assert wilson_interval(0, 3)[0] == 0.0 and wilson_interval(3, 3)[1] == 1.0
    assert wilson_interval(0, 0) is None


def test_mean_interval_worked_by_hand():
    # P&L 100, -50, 20, -30: mean 10, s² = (13800 - 40²/4) / 3 = 4466.67, se = 33.4166, t(3) = 3.18245
    low, high = mean_interval(4, Decimal(40), Decimal(13800))
    assert round(low, 2) == Decimal("-96.35") and round(high, 2) == Decimal("116.35")


def test_mean_interval_needs_two_and_never_goes_negative_in_variance():
    assert mean_interval(1, Decimal(5), Decimal(25)) is None
    assert mean_interval(2, Decimal(10), Decimal("49.9999999")) == [Decimal(5), Decimal(5)]


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 10, 29, 30, 31, 60, 120, 500, 10_000])
def test_t_quantile_matches_scipy(df):
    scipy_stats = pytest.importorskip("scipy.stats")
    assert t_quantile_975(df) == pytest.approx(scipy_stats.t.ppf(0.975, df), rel=1e-9)


@pytest.mark.parametrize("wins,n", [(1, 1), (3, 10), (7, 10), (50, 51), (412, 1000)])
def test_wilson_matches_scipy(wins, n):
    scipy_stats = pytest.importorskip("scipy.stats")
    expected = scipy_stats.binomtest(wins, n).proportion_ci(method="wilson")
    assert wilson_interval(wins, n) == pytest.approx([expected.low, expected.high], abs=1e-9)
