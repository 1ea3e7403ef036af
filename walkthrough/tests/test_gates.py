"""Structure gates on POST /screen/3 (and the simple guide), legs_json round trip (design §3.Q7)."""

import copy
import json
from decimal import Decimal

import pytest

from walkthrough.gates import check_legs
from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgress
from walkthrough.scenarios import _load_cc_frozen_chain, _load_frozen_chain, _load_vs_chain
from walkthrough.tests.conftest import CC_LEGS, IC_LEGS, PERSONA, VS_LEGS, client_for

LEG_KEYS = {"role", "strike", "expiry", "option_type", "action", "premium"}


def at_screen_3(invite, cell, intent, email="t@example.test"):
    cell(False, True)
    progress, token = invite(email)
    c = client_for(token)
    c.post("/api/walkthrough/screen/1", {"answers": PERSONA, "intent_bucket": intent}, format="json")
    c.post("/api/walkthrough/screen/2", {}, format="json")
    return progress, c


@pytest.mark.parametrize("intent,legs,strategy", [("income", IC_LEGS, "iron_condor"),
                                                   ("covered_call", CC_LEGS, "covered_call"),
                                                   ("directional", VS_LEGS, "vertical_spread")])
def test_legs_json_round_trips_for_every_shape(invite, cell, intent, legs, strategy):
    progress, c = at_screen_3(invite, cell, intent)
    r = c.post("/api/walkthrough/screen/3", {"legs": list(reversed(legs))}, format="json")
    assert r.status_code == 201
    body = r.json()["paper_trade"]
    assert set(body) >= {"id", "strategy_type", "legs"} and body["strategy_type"] == strategy
    row = WalkthroughPaperTrade.objects.get(pk=body["id"])
    stored = json.loads(row.legs_json)
    assert stored == body["legs"]
    assert sorted(stored, key=lambda leg: leg["role"]) == sorted(legs, key=lambda leg: leg["role"])
    for leg in stored:
        assert set(leg) == LEG_KEYS
        assert isinstance(leg["strike"], float) and isinstance(leg["premium"], float)
        assert leg["option_type"] in ("call", "put") and leg["action"] in ("sell", "buy")
    named = [row.short_call_strike, row.long_call_strike, row.short_put_strike, row.long_put_strike, row.wing_width]
    if strategy == "iron_condor":
        assert named == [Decimal("5550"), Decimal("5600"), Decimal("5300"), Decimal("5250"), Decimal("50")]
    else:
        assert named == [None] * 5


def test_strategy_type_defaults_to_iron_condor_in_the_database(invite, program):
    from django.db import connection

    progress, _ = invite()
    with connection.cursor() as cur:
        cur.execute("INSERT INTO beta_walkthrough_paper_trades (progress_id, underlying, legs_json, created_at) "
                    "VALUES (%s, 'SPX', '[]', %s)", [progress.pk, progress.created_at])
    assert WalkthroughPaperTrade.objects.get(progress=progress).strategy_type == "iron_condor"


def _with(legs, i, **changes):
    legs = copy.deepcopy(legs)
    legs[i].update(changes)
    return legs


def codes(reasons):
    return sorted({r["code"] for r in reasons})


@pytest.mark.parametrize("legs,expected", [
    (IC_LEGS[:3], ["missing_role", "wrong_leg_count"]),
    (IC_LEGS + [IC_LEGS[0]], ["duplicate_role", "wrong_leg_count"]),
    (_with(IC_LEGS, 0, expiry="2026-07-17"), ["multiple_expiries"]),
    (_with(IC_LEGS, 1, strike=5200.0), ["strike_order"]),
    (_with(IC_LEGS, 2, strike=5555.0), ["strike_not_in_chain"]),
    (_with(IC_LEGS, 0, action="sell"), ["action_mismatch"]),
    (_with(IC_LEGS, 0, option_type="call"), ["option_type_mismatch"]),
    (_with(IC_LEGS, 0, role="short_call_cc"), ["role_not_in_structure"]),
    (_with(IC_LEGS, 0, role="wing"), ["unknown_role"]),
    (_with(IC_LEGS, 0, strike="abc"), ["invalid_strike"]),
    (_with(IC_LEGS, 0, strike=-5), ["invalid_strike"]),
    (_with(IC_LEGS, 0, strike=True), ["invalid_strike"]),
    (_with(IC_LEGS, 0, premium=-1), ["invalid_premium"]),
    (_with(IC_LEGS, 0, expiry="26/06/2026"), ["invalid_expiry"]),
    (_with(IC_LEGS, 3, role="long_put", option_type="put"), ["duplicate_role", "missing_role"]),
    ([1, 2, 3, 4], ["leg_not_an_object"]),
    ([{"role": "long_put"}] + IC_LEGS[1:], ["missing_field"]),
])
def test_iron_condor_gate_reasons(legs, expected):
    _, clean, reasons = check_legs("ic", legs, _load_frozen_chain())
    assert clean == [] and codes(reasons) == expected


@pytest.mark.parametrize("legs,expected", [
    (_with(CC_LEGS, 0, strike=195.0), ["otm_only"]),
    (_with(CC_LEGS, 0, expiry="2026-06-12", strike=205.0), ["min_dte"]),
    (_with(CC_LEGS, 0, strike=207.5), ["strike_not_in_chain"]),
    (_with(CC_LEGS, 0, action="buy"), ["action_mismatch"]),
    (CC_LEGS * 2, ["wrong_leg_count"]),
])
def test_covered_call_gate_reasons(legs, expected):
    _, _, reasons = check_legs("cc", legs, _load_cc_frozen_chain())
    assert codes(reasons)[:len(expected)] == expected or set(expected) <= set(codes(reasons))


@pytest.mark.parametrize("legs,expected", [
    (_with(VS_LEGS, 0, strike=520.0), ["strike_order"]),
    (_with(VS_LEGS, 1, expiry="2026-07-17"), ["multiple_expiries", "strike_not_in_chain"]),
    (_with(VS_LEGS, 1, strike=526.0), ["strike_not_in_chain"]),
    (VS_LEGS[:1], ["missing_role", "wrong_leg_count"]),
])
def test_vertical_spread_gate_reasons(legs, expected):
    _, _, reasons = check_legs("vs", legs, _load_vs_chain())
    assert codes(reasons) == expected


def test_gate_failure_is_422_with_reasons_and_writes_nothing(invite, cell):
    progress, c = at_screen_3(invite, cell, "income")
    before = WalkthroughProgress.objects.get(pk=progress.pk)
    r = c.post("/api/walkthrough/screen/3", {"legs": _with(IC_LEGS, 2, strike=5555.0)}, format="json")
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "structure_gate_failed"
    assert body["detail"] == [{"code": "strike_not_in_chain", "role": "short_call", "strike": 5555.0,
                               "expiry": "2026-06-26", "option_type": "call"}]
    after = WalkthroughProgress.objects.get(pk=progress.pk)
    assert after.screen_completed_max == 2 and after.updated_at == before.updated_at
    assert not WalkthroughPaperTrade.objects.exists()


@pytest.mark.parametrize("body", [{}, {"legs": "four legs"}, {"legs": {"role": "x"}}, {"legs": None}])
def test_screen3_without_a_legs_list_is_400(invite, cell, body):
    _, c = at_screen_3(invite, cell, "income")
    r = c.post("/api/walkthrough/screen/3", body, format="json")
    assert r.status_code == 400 and r.json()["error"] == "invalid_request" and "legs" in r.json()["detail"]
    assert not WalkthroughPaperTrade.objects.exists()


def test_covered_call_tester_cannot_submit_an_iron_condor(invite, cell):
    _, c = at_screen_3(invite, cell, "covered_call")
    r = c.post("/api/walkthrough/screen/3", {"legs": IC_LEGS}, format="json")
    assert r.status_code == 422 and "wrong_leg_count" in codes(r.json()["detail"])


def test_simple_guide_gates_optional_legs(invite, cell):
    cell(True, False)
    _, token = invite()
    c = client_for(token)
    c.post("/api/walkthrough/screen/1", {"track": "simple"}, format="json")
    bad = c.post("/api/walkthrough/screen/simple/1", {"legs": _with(VS_LEGS, 0, strike=520.0)}, format="json")
    assert bad.status_code == 422 and bad.json()["detail"][0]["code"] == "strike_order"
    good = c.post("/api/walkthrough/screen/simple/1", {"legs": VS_LEGS}, format="json")
    assert good.status_code == 201 and good.json()["paper_trade"]["strategy_type"] == "vertical_spread"
    assert good.json()["progress"]["next_screen"] == "screen/4"


def test_decimal_strings_are_accepted_for_strikes_and_premiums(invite, cell):
    _, c = at_screen_3(invite, cell, "income")
    legs = [{**leg, "strike": f"{leg['strike']:.2f}", "premium": str(leg["premium"])} for leg in IC_LEGS]
    r = c.post("/api/walkthrough/screen/3", {"legs": legs}, format="json")
    assert r.status_code == 201 and r.json()["paper_trade"]["legs"][0]["strike"] == 5250.0


def test_premium_type_and_action_may_be_left_to_the_chain(invite, cell):
    _, c = at_screen_3(invite, cell, "covered_call")
    r = c.post("/api/walkthrough/screen/3", {"legs": [{"role": "short_call_cc", "strike": "205.00",
                                                        "expiry": "2026-06-26"}]}, format="json")
    assert r.status_code == 201
    leg = r.json()["paper_trade"]["legs"][0]
    chain = _load_cc_frozen_chain()["raw"]
    contract = next(x for x in chain["contracts"] if x["strike"] == 205.0 and x["type"] == "call"
                    and x["expiry"] == "2026-06-26")
    assert leg == {"role": "short_call_cc", "strike": 205.0, "expiry": "2026-06-26", "option_type": "call",
                   "action": "sell", "premium": round((contract["bid"] + contract["ask"]) / 2, 2)}


def test_directional_on_the_door_path_may_also_use_screens_2_and_3(invite, cell):
    cell(True, True)
    _, token = invite()
    c = client_for(token)
    c.post("/api/walkthrough/screen/1", {"track": "full", "intent_bucket": "directional"}, format="json")
    assert c.get("/api/walkthrough/status").json()["next_screen"] == "screen/simple/1"
    assert c.post("/api/walkthrough/screen/3", {"legs": VS_LEGS}, format="json").status_code == 409
    assert c.post("/api/walkthrough/screen/2", {}, format="json").status_code == 200
    r = c.post("/api/walkthrough/screen/3", {"legs": VS_LEGS}, format="json")
    assert r.status_code == 201 and r.json()["paper_trade"]["strategy_type"] == "vertical_spread"
    assert r.json()["progress"]["next_screen"] == "screen/4"


@pytest.mark.parametrize("intent,roles", [
    ("income", ["long_put", "short_put", "short_call", "long_call"]),
    ("covered_call", ["short_call_cc"]),
    ("directional", ["short_put_vs", "long_put_vs"]),
])
def test_the_suggested_strikes_pass_the_gate(invite, cell, intent, roles):
    _, c = at_screen_3(invite, cell, intent)
    screen3 = c.get("/api/walkthrough/screen/3").json()
    suggested = screen3["suggested_strikes"]
    key = {"short_call_cc": "short_call", "short_put_vs": "short_put", "long_put_vs": "long_put"}
    legs = [{"role": role, "strike": suggested[key.get(role, role)], "expiry": suggested["expiry"]} for role in roles]
    assert [leg["role"] for leg in screen3["structure"]["legs"]] == sorted(roles, key=[
        leg["role"] for leg in screen3["structure"]["legs"]].index)
    r = c.post("/api/walkthrough/screen/3", {"legs": legs}, format="json")
    assert r.status_code == 201, r.json()
