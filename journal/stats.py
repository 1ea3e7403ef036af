"""95% intervals for the journal's stats, from the sums one SQL aggregate returns.

Wilson score for a win rate (wins out of closed trades) and Student-t for a mean
P&L (count, sum, sum of squares). Both are standard and short; the t quantile is
computed here rather than with scipy so that a web worker does not import scipy
(tens of MB per process) for one number: a bisection on the t CDF, whose
regularized incomplete beta is evaluated by Lentz's continued fraction
(Numerical Recipes §6.4). The tests check both against scipy.
"""

import math
from decimal import Decimal
from functools import lru_cache

Z_95 = 1.959963984540054  # the standard normal's 0.975 quantile


def wilson_interval(wins: int, n: int, z: float = Z_95) -> list[float] | None:
    """The Wilson score interval for ``wins`` successes out of ``n``; None when n = 0."""
    if n <= 0:
        return None
    p = wins / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if wins == 0 else centre - half  # exact at the ends (no 5e-17 from rounding)
    high = 1.0 if wins == n else centre + half
    return [low, high]


def mean_interval(n: int, total: Decimal, sum_squares: Decimal) -> list[Decimal] | None:
    """The Student-t 95% interval of a mean from n, Σx and Σx²; None when n < 2."""
    if n < 2:
        return None
    mean = total / n
    variance = max(Decimal(0), (sum_squares - total * total / n) / (n - 1))  # ≥ 0 despite rounding
    half = Decimal(repr(t_quantile_975(n - 1))) * (variance / n).sqrt()
    return [mean - half, mean + half]


@lru_cache(maxsize=1024)
def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom."""
    if df == 1:
        return math.tan(math.pi * 0.475)  # Cauchy: exact
    low, high = 0.0, 20.0  # t(0.975) ≤ 12.71 for every df ≥ 1
    for _ in range(80):
        mid = (low + high) / 2
        if _t_cdf(mid, df) < 0.975:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _t_cdf(t: float, df: int) -> float:
    """P(T ≤ t) for t ≥ 0."""
    x = df / (df + t * t)
    return 1 - 0.5 * _incomplete_beta(df / 2, 0.5, x)


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1 - front * _beta_fraction(b, a, 1 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny, c, d = 1e-300, 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return result
