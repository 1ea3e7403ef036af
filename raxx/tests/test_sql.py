"""raxx.sql's planner setting sent with its statement (PostgreSQL), and the check that keeps it possible."""

from contextlib import nullcontext

import pytest
from django.db import connection, transaction

from raxx.checks import server_side_binding_errors
from raxx.sql import whole_book_plans, without_nested_loops

NESTLOOP = "SELECT current_setting('enable_nestloop')"


def setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute(NESTLOOP)
        return cursor.fetchone()[0]


@pytest.mark.postgres_only
@pytest.mark.parametrize("in_transaction", [False, True])
def test_the_setting_holds_for_its_statement_only(db, in_transaction):
    with transaction.atomic() if in_transaction else nullcontext():
        with whole_book_plans(connection), whole_book_plans(connection), connection.cursor() as cursor:  # nested: once
            cursor.execute(NESTLOOP)
            assert cursor.fetchone() == ("off",)
            cursor.execute(without_nested_loops(NESTLOOP))  # already wrapped: not wrapped twice
            cursor.nextset()
            assert cursor.fetchone() == ("off",)
            cursor.executemany("SELECT %s", [(1,), (2,)])  # one statement a row: left as it is
        assert setting() == "on"


def test_server_side_binding_is_refused_by_a_system_check():
    postgres = {"ENGINE": "django.db.backends.postgresql"}
    assert [e.id for e in server_side_binding_errors(
        {"default": {**postgres, "OPTIONS": {"server_side_binding": True}}})] == ["raxx.E004"]
    assert server_side_binding_errors({"default": postgres, "other": {**postgres, "OPTIONS": {}}}) == []
    assert server_side_binding_errors({"default": {"ENGINE": "django.db.backends.sqlite3"}}) == []
