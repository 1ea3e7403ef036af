"""The DDL the designs pin, read back from PostgreSQL's catalog (not from Django's models):
the snapshot CHECK constraints, the three WCB indexes with their partial predicates,
the gen_random_uuid() defaults, and the walkthrough's intent_bucket index (§3.Q2)."""

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

SNAPSHOTS = "closed_position_wcb_snapshots"


def query(sql: str, *params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def checks(table: str) -> dict[str, str]:
    return dict(query("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                      "WHERE conrelid = %s::regclass AND contype = 'c'", table))


def indexes(table: str) -> dict[str, str]:
    return dict(query("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", table))


def column_default(table: str, column: str) -> str | None:
    (row,) = query("SELECT column_default FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
                   table, column)
    return row[0]


def test_snapshot_check_constraints():
    found = checks(SNAPSHOTS)
    horizon, asset = found["wcb_tracking_horizon_valid"], found["wcb_asset_type_valid"]
    assert "tracking_horizon" in horizon and "'close_of_market_only'" in horizon and "'monthly'" in horizon
    for value in ("equity", "call", "put", "multi_leg"):
        assert f"'{value}'" in asset
    assert "asset_type" in asset


def test_the_three_wcb_indexes_with_their_partial_predicates():
    found = indexes(SNAPSHOTS)
    assert "(user_id, position_id)" in found["idx_wcb_user_position"]
    assert "WHERE" not in found["idx_wcb_user_position"]
    for name, horizon in (("idx_wcb_pending_eod", "close_of_market_only"), ("idx_wcb_pending_eom", "monthly")):
        definition = found[name]
        assert "(tracking_horizon, close_timestamp_utc)" in definition
        predicate = definition.split(" WHERE ", 1)[1]
        assert "NOT horizon_reached" in predicate and f"'{horizon}'" in predicate


@pytest.mark.parametrize("table", ["closed_positions", SNAPSHOTS])
def test_ids_default_to_gen_random_uuid(table):
    assert column_default(table, "id") == "gen_random_uuid()"


def test_snapshot_column_defaults_are_in_the_database():
    assert column_default(SNAPSHOTS, "horizon_reached") == "false"
    assert column_default(SNAPSHOTS, "asset_type").startswith("'equity'")
    assert column_default(SNAPSHOTS, "created_at") in ("now()", "CURRENT_TIMESTAMP", "statement_timestamp()")


def test_intent_bucket_is_indexed():
    found = indexes("beta_walkthrough_progress")
    assert any("(intent_bucket)" in definition for definition in found.values()), found
