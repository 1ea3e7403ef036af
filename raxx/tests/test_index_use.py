"""No query of a customer route scans a whole customer table (PostgreSQL).

Every statement the customer routes run is captured and EXPLAINed with ``enable_seqscan``
off: the planner then picks an index whenever one can serve the predicate, so a Seq Scan
left on a table that holds customer data means no index can — that query's cost would grow
with every other customer's rows. An index read end to end without a condition counts as a
scan too (that is what the planner picks instead when sequential scans are off).
"""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from raxx.customer_data import rules
from raxx.tests.helpers import sent_statements
from walkthrough.services import program_get_or_create, walkthrough_invite
from walkthrough.tests.conftest import client_for

pytestmark = pytest.mark.postgres_only
ALL_FLAGS = ("FLAG_SENTIMENT_JOURNAL", "FLAG_WCB_ENABLED", "FLAG_BETA_WALKTHROUGH_SELF_SELECT",
             "FLAG_WALKTHROUGH_PERSONA_ROUTING")


def customer_tables() -> set[str]:
    tables = {rule.table for rule in rules()}
    for rule in rules():  # rows owned through a cascading FK (snapshots, walkthrough trades) hold customer data too
        tables |= {rel.related_model._meta.db_table for rel in rule.model._meta.related_objects}
    return tables - {"django_admin_log"}


def seq_scans(sql: str, tables: set[str]) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_nestloop")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found, stack = [], [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        whole = node["Node Type"] == "Seq Scan" or (  # an index read end to end is a scan too
            node["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in node and "Filter" not in node)
        if whole and node.get("Relation Name") in tables:
            found.append(f'{node["Node Type"]} on {node["Relation Name"]}')
        stack.extend(node.get("Plans", []))
    return found


def explainable(sql: str) -> bool:
    return sql.lstrip().split(" ", 1)[0].upper() in ("SELECT", "UPDATE", "DELETE") and "pg_" not in sql


def customer_journey(api, flags) -> None:
    """Every customer route, reads and writes, with data in place."""
    for name in ALL_FLAGS:
        flags.on(name)
    assert api.get("/api/me").status_code == 200
    order = api.post("/api/paper-orders", {"symbol": "AAPL", "side": "buy", "quantity": "2", "entry_price": "100",
                                           "pre_label": "Bullish"}).json()["order"]
    label_id = api.get("/api/backtest/sentiment-filter").json()["trades"][0]["trade_id"]
    api.post(f"/api/paper-orders/{order['id']}/close", {"exit_price": "101"})
    assert api.get("/api/paper-orders").status_code == 200
    assert api.get(f"/api/paper-orders/{order['id']}").status_code == 200
    labels = api.get("/api/backtest/sentiment-filter", {"pre_label": "Bullish", "date_from": "2026-01-01"}).json()
    assert labels["stats"]["n"] == 1 and label_id == order["id"]
    from journal.models import TradeSentimentLabel

    label = TradeSentimentLabel.objects.get(trade_id=order["id"])
    assert api.patch(f"/api/sentiment-labels/{label.id}", {"post_label": "FollowedPlan"}).status_code == 200
    assert api.get(f"/api/sentiment-labels/{label.id}").status_code == 200
    assert api.get("/api/sentiment-labels/taxonomy").status_code == 200
    assert api.get("/api/journal/insights").status_code == 200
    position = api.post("/api/trading/close-position", {
        "symbol": "AAPL", "asset_type": "equity", "quantity": "10", "cost_basis": "100", "close_price": "101",
        "closed_at": (timezone.now() - timedelta(days=3)).isoformat()}).json()["position_id"]
    api.get(f"/api/positions/{position}/what-could-have-been")
    assert api.patch("/api/account/settings/wcb", {"tracking_horizon": "monthly"}).status_code == 200


def walkthrough_journey() -> None:
    program = program_get_or_create(name="cohort-ix", ends_on=timezone.now().date() + timedelta(days=30))
    tester = client_for(walkthrough_invite(email="ix@example.test", program=program).token)
    tester.post("/api/walkthrough/screen/1", {"track": "full", "intent_bucket": "income"}, format="json")
    for route in ("status", "screen/1", "screen/2", "screen/3"):
        assert tester.get(f"/api/walkthrough/{route}").status_code < 500


def test_no_customer_route_seq_scans_a_customer_table(api, api_for, flags, other_customer):
    other = api_for(other_customer)
    customer_journey(other, flags)  # someone else's rows are there too
    tables = customer_tables()
    with CaptureQueriesContext(connection) as queries:
        customer_journey(api, flags)
        walkthrough_journey()
    statements = [sql for q in queries.captured_queries for sql, _ in sent_statements(q["sql"]) if explainable(sql)]
    assert len(statements) > 30
    offenders = {sql: found for sql in statements if (found := seq_scans(sql, tables))}
    assert not offenders, "\n\n".join(f"{tables_}: {sql}" for sql, tables_ in offenders.items())
