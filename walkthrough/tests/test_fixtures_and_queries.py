import json
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from walkthrough import scenarios
from walkthrough.scenarios import _SCENARIO_REGISTRY
from walkthrough.tests.conftest import IC_LEGS, PERSONA, SURVEY, client_for


def test_registry_is_a_module_level_constant_keyed_by_intent():
    assert set(_SCENARIO_REGISTRY) == {"income", "covered_call", "directional"}
    assert {k: v["builder"] for k, v in _SCENARIO_REGISTRY.items()} == {"income": "ic", "covered_call": "cc",
                                                                       "directional": "vs"}
    assert scenarios._SCENARIO_FALLBACK == "income"


def test_fixtures_follow_the_schema():
    for name in (scenarios.IC_FIXTURE, scenarios.CC_FIXTURE, scenarios.VS_FIXTURE):
        data = json.loads((scenarios.FIXTURES_DIR / name).read_text())
        meta = data["_meta"]
        assert {"description", "underlying", "underlying_price", "snapshot_date", "note", "format_version",
                "contract_count"} <= set(meta)
        assert meta["contract_count"] == len(data["contracts"])
        for c in data["contracts"]:
            assert set(c) == {"strike", "expiry", "expiry_type", "dte", "type", "bid", "ask", "last",
                              "open_interest", "iv"}
            assert c["type"] in ("call", "put") and c["expiry_type"] in ("monthly", "weekly")
            assert c["bid"] <= c["ask"]
    cc = json.loads((scenarios.FIXTURES_DIR / scenarios.CC_FIXTURE).read_text())
    assert cc["_meta"]["underlying"] == "AAPL"
    assert cc["suggested_strikes"]["short_call"] > cc["_meta"]["underlying_price"]
    assert 14 <= cc["suggested_strikes"]["dte"] <= 21
    otm_calls = {c["strike"] for c in cc["contracts"] if c["type"] == "call" and c["strike"] > cc["_meta"]["underlying_price"]}
    assert len(otm_calls) >= 2


def test_chain_prices_are_served_as_decimal_strings(tester, cell):
    _, c, _ = tester
    cell(False, False)
    body = c.get("/api/walkthrough/screen/2").json()
    assert body["chain"]["underlying_price"] == "5420.35"
    contract = body["chain"]["contracts"][0]
    assert all(isinstance(contract[k], str) for k in ("strike", "bid", "ask", "last"))
    assert body["suggested_strikes"]["short_call"] == "5550.00"
    assert "historical end-of-day snapshot" in body["chain"]["note"].lower()


def test_missing_covered_call_fixture_falls_back_to_the_iron_condor(invite, cell, monkeypatch, caplog):
    monkeypatch.setattr(scenarios, "CC_FIXTURE", "no-such-file.json")
    scenarios.clear_fixture_cache()
    cell(False, True)
    progress, token = invite()
    c = client_for(token)
    c.post("/api/walkthrough/screen/1", {"answers": PERSONA, "intent_bucket": "covered_call"}, format="json")
    with caplog.at_level(logging.WARNING, logger="walkthrough"):
        screen2 = c.get("/api/walkthrough/screen/2")
    assert screen2.status_code == 200 and screen2.json()["scenario"] == "income"
    assert any("no-such-file.json" in r.getMessage() for r in caplog.records)
    c.post("/api/walkthrough/screen/2", {}, format="json")
    assert c.get("/api/walkthrough/screen/3").json()["builder"] == "ic"
    assert c.post("/api/walkthrough/screen/3", {"legs": IC_LEGS}, format="json").status_code == 201


# route -> max queries: the token SELECT, and for a POST one conditional write, on PostgreSQL
# with no BEGIN/COMMIT (nor, in a test, SAVEPOINT/RELEASE): screens 3 and 5 update the progress
# row and insert the paper trade / survey in one statement. SQLite has no data-modifying WITH, so
# there those two take the locked path: lock, trade lookup, insert, update, and the atomic block.
ROUTES = [("get", "screen/1"), ("post", "screen/1"), ("get", "screen/2"), ("post", "screen/2"),
          ("get", "screen/3"), ("post", "screen/3"), ("get", "screen/4"), ("post", "screen/4"),
          ("get", "screen/5"), ("post", "screen/5"), ("get", "status")]
LOCKED_ON_SQLITE = {("post", "screen/3"): 7, ("post", "screen/5"): 6}


def bounds() -> dict:
    out = {key: 1 if key[0] == "get" else 2 for key in ROUTES}
    return out if connection.vendor == "postgresql" else {**out, **LOCKED_ON_SQLITE}


def _run_measured(c):
    counts = {}
    bodies = {("post", "screen/1"): {"answers": PERSONA}, ("post", "screen/3"): {"legs": IC_LEGS},
              ("post", "screen/5"): {"answers": SURVEY}}
    c.get("/api/walkthrough/status")  # warm the flag cache, as in production
    for method, route in ROUTES:
        with CaptureQueriesContext(connection) as ctx:
            r = getattr(c, method)(f"/api/walkthrough/{route}", *([bodies.get((method, route), {})]
                                                                  if method == "post" else []), format="json")
        assert r.status_code in (200, 201), (route, r.json())
        counts[(method, route)] = len(ctx.captured_queries)
    return counts


@pytest.mark.parametrize("others", [0, 40])
def test_query_counts_per_route_do_not_grow_with_data(invite, cell, others):
    cell(False, False)
    for i in range(others):
        _, other = invite(f"other{i}@example.test")
        if i < 5:  # other testers' paper trades and surveys too
            _run_measured(client_for(other))
    _, token = invite()
    counts = _run_measured(client_for(token))
    over = {key: (counts[key], bound) for key, bound in bounds().items() if counts[key] > bound}
    assert not over, over


def test_simple_and_intent_routes_query_bounds(invite, cell, django_assert_max_num_queries):
    cell(True, True)
    _, token = invite()
    c = client_for(token)
    c.get("/api/walkthrough/status")
    c.post("/api/walkthrough/screen/1", {"track": "full"}, format="json")
    with django_assert_max_num_queries(2):
        c.post("/api/walkthrough/screen/1/intent", {"intent_bucket": "directional"}, format="json")
    with django_assert_max_num_queries(1):
        c.get("/api/walkthrough/screen/simple/1")
    from walkthrough.tests.conftest import VS_LEGS
    with django_assert_max_num_queries(2 if connection.vendor == "postgresql" else 7):
        assert c.post("/api/walkthrough/screen/simple/1", {"legs": VS_LEGS}, format="json").status_code == 201


def test_openapi_schema_lists_every_walkthrough_route(client, db):
    r = client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    body = r.content.decode()
    for route in ("screen/1", "screen/1/intent", "screen/simple/1", "screen/2", "screen/3", "screen/4",
                  "screen/5", "status"):
        assert f"/api/walkthrough/{route}" in body
    assert "walkthroughToken" in body
