"""The PostgreSQL forms of the journal's formatting rules give the text their Python twins give.

The sentiment filter's page comes back from PostgreSQL already formatted (journal/selectors.py);
the ORM path (SQLite) formats in Python. Each SQL rule is checked against its Python twin on the
values where formatting goes wrong (trailing zeros, ties, a loss that rounds to zero, microseconds),
then the whole page against the ORM path's, row for row, on the same database.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from journal import selectors
from journal.formatting import (cents, cents_sql, decimal_str, decimal_str_sql, iso_z, iso_z_sql, quantity_str,
                                quantity_str_sql)
from journal.tests.conftest import make_label, make_order

pytestmark = pytest.mark.postgres_only

PRICES = ["1", "10", "100", "0.5", "0.000001", "0.1", "1.1", "12.34", "12.345", "150.120000", "1000000",
          "12345678901234.5", "99999999999999.999999"]
PNLS = ["0", "-0.004", "0.004", "0.005", "-0.005", "0.004999999999", "-0.000000000001", "123.455", "-123.455",
        "0.01", "-0.01", "5", "-2.5", "1234567890123456789012.123456789012", "-1234567890123456789012.995"]
TIMES = ["2026-01-02 03:04:05+00", "2026-01-02 03:04:05.000001+00", "2026-01-02 03:04:05.123+00",
         "2026-06-30 23:59:59.999999-04", "2026-03-08 02:30:00.5+05:30", "2000-02-29 00:00:00+00"]


def _pairs(sql_rule, db_type: str, values: list[str]) -> list[tuple]:
    """(the value as the ORM would load it, the SQL rule's text for it), one per value and a NULL."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT x, {sql_rule('x')} FROM unnest(%s::{db_type}[]) WITH ORDINALITY AS v(x, n) "
                       "ORDER BY n", [[*values, None]])
        return cursor.fetchall()


@pytest.mark.django_db
@pytest.mark.parametrize("python_rule, sql_rule, db_type, values", [
    (decimal_str, decimal_str_sql, "numeric(20, 6)", PRICES),
    (quantity_str, quantity_str_sql, "numeric(20, 6)", PRICES),
    (cents, cents_sql, "numeric(34, 12)", PNLS),
    (iso_z, iso_z_sql, "timestamptz", TIMES),
])
def test_each_sql_rule_gives_the_python_rules_text(python_rule, sql_rule, db_type, values):
    pairs = _pairs(sql_rule, db_type, values)
    assert len(pairs) == len(values) + 1
    assert [(value, python_rule(value)) for value, _ in pairs[:-1]] == pairs[:-1]
    assert pairs[-1] == (None, None)  # NULL stays NULL (as the Python rules give None; quantity_str is never given one)
    if sql_rule is cents_sql:  # the case that needs its own branch: a loss that rounds to zero
        assert dict(pairs)[Decimal("-0.004")] == "-0.00"


@pytest.mark.django_db
def test_the_filter_page_is_the_orm_paths_page_row_for_row(customer, other_customer):
    base = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    specs = [  # side, quantity, entry, exit (None: open), post label, strategy, opened_at microsecond
        ("buy", "10", "100", "110", "FollowedPlan", "momentum", 0),
        ("sell", "0.5", "12.345", "12.34", None, None, 1),
        ("buy", "1.100000", "150.12", "150.119", "OverrodeRule", "breakout", 123000),
        ("sell", "3", "99999.999999", None, None, "momentum", 999999),
        ("buy", "0.000001", "0.1", "0.104", "UnexpectedOutcome", None, 0),  # P&L 0.000000004 → "0.00"
        ("sell", "0.000001", "0.1", "0.104", "FollowedPlan", None, 0),  # P&L -0.000000004 → "-0.00"
        ("buy", "1", "10", "10.005", None, "breakout", 500000),  # P&L 0.005, a tie → "0.01"
        ("sell", "1", "10", "10.005", "OverrodeRule", "momentum", 0),  # P&L -0.005, a tie → "-0.01"
    ]
    for i, (side, qty, entry, exit_price, post, strategy, micro) in enumerate(specs):
        order = make_order(customer, side=side, quantity=qty, entry=entry, exit=exit_price, strategy_type=strategy,
                           symbol=["AAPL", "BRK.B", "X-Y"][i % 3],
                           opened_at=base + timedelta(days=i, microseconds=micro))
        make_label(customer, order, pre=["Bullish", "Bearish", "Neutral"][i % 3], post=post,
                   note="n" if i % 2 else None)
    make_label(other_customer, make_order(other_customer, exit="1000"), pre="Bullish")

    for filters in (selectors.SentimentFilter(), selectors.SentimentFilter(pre_label="Bullish"),
                    selectors.SentimentFilter(strategy_type="momentum"),
                    selectors.SentimentFilter(post_label="FollowedPlan", pre_label="Neutral")):
        for limit, offset in ((100, 0), (2, 1)):
            pg = selectors.sentiment_filter(customer=customer, filters=filters, limit=limit, offset=offset)["trades"]
            mine = selectors._my_labels(customer).filter(filters.q())
            orm = [selectors._trade_dict(row) for row in selectors._trade_page_rows(mine, limit=limit, offset=offset)]
            assert pg == orm and [list(t) for t in pg] == [list(t) for t in orm]  # same values, same key order
    everything = selectors.sentiment_filter(customer=customer, filters=selectors.SentimentFilter())["trades"]
    assert len(everything) == len(specs)
    assert {t["realized_pnl"] for t in everything} >= {"-0.00", "0.00", "0.01", "-0.01", None}
    assert any(".000001Z" in t["opened_at"] for t in everything) and any(t["opened_at"].endswith(":00Z")
                                                                        for t in everything)


@pytest.mark.django_db
def test_a_closed_order_without_an_exit_price_still_gets_its_sentence(customer):
    """The CHECK constraint lets a closed order's NULL exit price through (NULL > 0 is unknown): the
    sentence reads as the Python path prints it, never NULL (the schema's summary is a string)."""
    order = make_order(customer, exit="110")
    make_label(customer, order)
    type(order).objects.filter(pk=order.pk).update(exit_price=None)
    [trade] = selectors.sentiment_filter(customer=customer, filters=selectors.SentimentFilter())["trades"]
    [row] = selectors._trade_page_rows(selectors._my_labels(customer), limit=100, offset=0)
    assert trade["summary"] == selectors._trade_dict(row)["summary"]
    assert "closed at None with a realized P&L of 100.00" in trade["summary"]
