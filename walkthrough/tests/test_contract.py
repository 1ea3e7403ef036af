"""Black-box acceptance tests for CONTRACTS §5, written as an outside tester would.

Only the public interface is used: the two management commands (tokens from
stdout), the HTTP routes, waffle flags (``override_flag``), and the table and
column names the design pins (``beta_walkthrough_progress.token_hash``,
``beta_walkthrough_paper_trades.strategy_type``/``legs_json``...). Legs are
built from what ``GET /screen/2`` serves (``suggested_strikes`` and ``chain``)
in the exact legs_json shape of design §3.Q7.
"""

import hashlib
import json
import logging
from contextlib import ExitStack
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from waffle.testutils import override_flag

from conftest import token_for

W = "/api/walkthrough"
SS = "FLAG_BETA_WALKTHROUGH_SELF_SELECT"
PR = "FLAG_WALKTHROUGH_PERSONA_ROUTING"
Q7_KEYS = {"role", "strike", "expiry", "option_type", "action", "premium"}
ROUTES = [("get", "screen/1"), ("post", "screen/1"), ("post", "screen/1/intent"), ("get", "screen/simple/1"),
          ("post", "screen/simple/1"), ("get", "screen/2"), ("post", "screen/2"), ("get", "screen/3"),
          ("post", "screen/3"), ("get", "screen/4"), ("post", "screen/4"), ("get", "screen/5"),
          ("post", "screen/5"), ("get", "status")]


# --- helpers an outside tester would write --------------------------------------

def invite(email="outside@example.test", program=None) -> str:
    out = StringIO()
    args = [email] + (["--program", program] if program else [])
    call_command("walkthrough_invite", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1].strip()


def client(token: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return c


@pytest.fixture
def flags_cell(db):
    """``flags_cell(self_select, routing)``; may be called again mid-test."""
    with ExitStack() as stack:
        def set_cell(self_select: bool, routing: bool):
            stack.enter_context(override_flag(SS, active=self_select))
            stack.enter_context(override_flag(PR, active=routing))
        yield set_cell


def sql(query: str, params=()):
    with connection.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def table_counts() -> dict:
    return {t: sql(f"SELECT COUNT(*) FROM {t}")[0][0]
            for t in ("beta_walkthrough_progress", "beta_walkthrough_paper_trades", "beta_walkthrough_responses")}


def mid(contract: dict) -> float:
    return round((float(contract["bid"]) + float(contract["ask"])) / 2, 2)


def find(chain: dict, strike, expiry: str, option_type: str) -> dict:
    for c in chain["contracts"]:
        if float(c["strike"]) == float(strike) and c["expiry"] == expiry and c["type"] == option_type:
            return c
    raise AssertionError(f"{strike} {expiry} {option_type} not in the served chain")


ROLE_SPEC = {"short_call": ("call", "sell"), "long_call": ("call", "buy"), "short_put": ("put", "sell"),
             "long_put": ("put", "buy"), "short_call_cc": ("call", "sell"), "short_put_vs": ("put", "sell"),
             "long_put_vs": ("put", "buy")}


def legs_from_screen2(body: dict, *, as_strings=False) -> list[dict]:
    """§3.Q7 legs for the served scenario, from suggested_strikes + chain."""
    suggested, chain, scenario = body["suggested_strikes"], body["chain"], body["scenario"]
    expiry = suggested["expiry"]
    roles = {"income": {"long_put": "long_put", "short_put": "short_put", "short_call": "short_call",
                        "long_call": "long_call"},
             "covered_call": {"short_call": "short_call_cc"},
             "directional": {"short_put": "short_put_vs", "long_put": "long_put_vs"}}[scenario]
    legs = []
    for key, role in roles.items():
        option_type, action = ROLE_SPEC[role]
        contract = find(chain, suggested[key], expiry, option_type)
        strike = suggested[key] if as_strings else float(suggested[key])
        premium = contract["last"] if as_strings else mid(contract)
        legs.append({"role": role, "strike": strike, "expiry": expiry, "option_type": option_type,
                     "action": action, "premium": premium})
    return legs


def post(c, route, body=None):
    return c.post(f"{W}/{route}", body if body is not None else {}, format="json")


# --- invite ---------------------------------------------------------------------

def test_invite_prints_the_token_last_and_stores_only_its_sha256(db):
    token = invite("Someone@Example.test", program="spring-cohort")
    rows = sql("SELECT token_hash FROM beta_walkthrough_progress")
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(),)]
    for table in ("beta_walkthrough_progress",):
        dump = json.dumps([list(map(str, r)) for r in sql(f"SELECT * FROM {table}")])
        assert token not in dump
    assert client(token).get(f"{W}/status").status_code == 200


def test_invite_without_program_and_a_second_tester(db):
    a, b = invite("a@example.test"), invite("b@example.test")
    assert a != b and client(a).get(f"{W}/status").status_code == 200
    assert client(b).get(f"{W}/status").status_code == 200


def test_invite_refuses_a_non_email(db):
    from django.core.management.base import CommandError
    with pytest.raises(CommandError):
        invite("not-an-email")
    assert table_counts()["beta_walkthrough_progress"] == 0


# --- 401 on every route -----------------------------------------------------------

def _forged(token: str) -> str:
    head, nonce, sig = token.split(".")
    return f"{head}.{nonce}.{'A' * len(sig)}"


@pytest.mark.parametrize("method,route", ROUTES)
def test_every_route_answers_401_invalid_token(db, customer, method, route, flags_cell):
    flags_cell(True, True)
    token = invite()
    headers = [None, "Bearer", "Bearer garbage", "Bearer " + token[:-3], "Bearer " + _forged(token),
               "Bearer " + token + "x", "Token " + token, "Basic dXNlcjpwYXNz",
               "Bearer " + token_for(customer, "pro_plus"), "Bearer \u00e9\u00e9", "Bearer " + "a.b.c" * 100]
    for header in headers:
        c = APIClient()
        if header is not None:
            c.credentials(HTTP_AUTHORIZATION=header)
        r = getattr(c, method)(f"{W}/{route}", {}, format="json")
        assert r.status_code == 401, (header, r.status_code)
        assert r.json() == {"error": "invalid_token"}


def test_a_reinvite_revokes_the_old_token_and_a_token_signed_with_another_secret_is_refused(db, settings):
    old = invite("x@example.test")
    new = invite("x@example.test")
    assert client(old).get(f"{W}/status").status_code == 401
    assert client(new).get(f"{W}/status").status_code == 200
    settings.BETA_TOKEN_SECRET = "another-secret"
    assert client(new).get(f"{W}/status").json() == {"error": "invalid_token"}


# --- screen 1, both flag shapes ---------------------------------------------------

def test_door_shape_with_self_select_on(flags_cell):
    flags_cell(True, False)
    c = client(invite())
    assert c.get(f"{W}/screen/1").status_code == 200
    r = post(c, "screen/1", {"track": "full"})
    assert r.status_code == 200
    s = c.get(f"{W}/status").json()
    assert s["track_selected"] == "full" and s["screen_completed_max"] >= 1 and s["intent_bucket"] is None
    assert s["scenario"] == "income"


def test_door_simple_track(flags_cell):
    flags_cell(True, False)
    c = client(invite())
    assert post(c, "screen/1", {"track": "simple"}).status_code == 200
    assert c.get(f"{W}/status").json()["track_selected"] == "simple"
    guide = c.get(f"{W}/screen/simple/1")
    assert guide.status_code == 200
    assert post(c, "screen/simple/1").status_code in (200, 201)
    assert post(c, "screen/4").status_code == 200
    assert post(c, "screen/5", {"answers": {"q1": 4}}).status_code == 200
    assert c.get(f"{W}/status").json()["completed_at"].endswith("Z")


@pytest.mark.parametrize("track", ["medium", "", None, 1, ["full"], {"x": 1}, "FULL "])
def test_unknown_track_is_400(flags_cell, track):
    flags_cell(True, True)
    c = client(invite())
    r = post(c, "screen/1", {"track": track})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert c.get(f"{W}/status").json()["screen_completed_max"] == 0


@pytest.mark.parametrize("answers", [
    {"experience": "beginner", "goal": "income", "risk": "moderate"},  # values an outsider makes up
    {"q1": "a", "q2": 3, "q3": True},
    {"experience": "1_to_3", "account_type": "taxable", "structures_used": "spreads"},
    {},
])
def test_persona_match_shape_with_self_select_off_accepts_any_reasonable_answers(flags_cell, answers):
    flags_cell(False, False)
    c = client(invite())
    assert c.get(f"{W}/screen/1").status_code == 200
    r = post(c, "screen/1", {"answers": answers})
    assert r.status_code == 200, r.json()
    assert c.get(f"{W}/status").json()["screen_completed_max"] >= 1


@pytest.mark.parametrize("self_select", [False, True])
def test_intent_inline_on_screen_1(flags_cell, self_select):
    flags_cell(self_select, True)
    c = client(invite())
    body = {"track": "full"} if self_select else {"answers": {"experience": "beginner"}}
    r = post(c, "screen/1", {**body, "intent_bucket": "covered_call"})
    assert r.status_code == 200
    s = c.get(f"{W}/status").json()
    assert s["intent_bucket"] == "covered_call" and s["scenario"] == "covered_call"
    assert c.get(f"{W}/screen/2").json()["scenario"] == "covered_call"
    assert sql("SELECT intent_bucket FROM beta_walkthrough_progress") == [("covered_call",)]


@pytest.mark.parametrize("self_select", [False, True])
@pytest.mark.parametrize("value", ["crypto", "INCOME", "", 7, ["income"], {"a": 1}])
def test_unrecognised_intent_is_stored_unknown_and_routed_income_with_a_warning(flags_cell, caplog, self_select,
                                                                                value):
    flags_cell(self_select, True)
    c = client(invite())
    body = {"track": "full"} if self_select else {"answers": {}}
    with caplog.at_level(logging.WARNING):
        r = post(c, "screen/1", {**body, "intent_bucket": value})
    assert r.status_code == 200, r.json()
    assert any(rec.levelno == logging.WARNING for rec in caplog.records)
    s = c.get(f"{W}/status").json()
    assert s["intent_bucket"] == "unknown" and s["scenario"] == "income"
    screen2 = c.get(f"{W}/screen/2").json()
    assert screen2["scenario"] == "income"
    assert post(c, "screen/2").status_code == 200
    assert post(c, "screen/3", {"legs": legs_from_screen2(screen2)}).status_code == 201


def test_intent_endpoint(flags_cell, caplog):
    flags_cell(True, True)
    c = client(invite())
    assert post(c, "screen/1/intent", {"intent_bucket": "income"}).status_code == 409  # screen 1 first
    r = post(c, "screen/1", {"track": "full"})
    assert r.status_code == 200
    assert c.get(f"{W}/status").json()["intent_bucket"] is None
    assert post(c, "screen/1/intent", {"intent_bucket": "covered_call"}).status_code == 200
    assert c.get(f"{W}/status").json()["intent_bucket"] == "covered_call"
    with caplog.at_level(logging.WARNING):
        assert post(c, "screen/1/intent", {"intent_bucket": "lottery"}).status_code == 200
    assert c.get(f"{W}/status").json()["intent_bucket"] == "unknown"
    assert c.get(f"{W}/screen/2").json()["scenario"] == "income"


def test_intent_endpoint_is_404_while_routing_is_off(flags_cell):
    flags_cell(True, False)
    c = client(invite())
    post(c, "screen/1", {"track": "full"})
    r = post(c, "screen/1/intent", {"intent_bucket": "income"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"


# --- screen 2 / 3 for every scenario, legs from what was served -------------------

SCENARIOS = [  # (self_select, routing, intent, expected scenario, strategy_type, leg count)
    (False, False, None, "income", "iron_condor", 4),
    (True, False, None, "income", "iron_condor", 4),
    (True, True, "income", "income", "iron_condor", 4),
    (False, True, "income", "income", "iron_condor", 4),
    (True, True, "covered_call", "covered_call", "covered_call", 1),
    (False, True, "covered_call", "covered_call", "covered_call", 1),
    (False, True, "directional", "directional", "vertical_spread", 2),
    (True, True, "directional", "directional", "vertical_spread", 2),  # screens 2/3 still accepted
]


def start(c, self_select, intent):
    body = {"track": "full"} if self_select else {"answers": {"experience": "some"}}
    if intent:
        body["intent_bucket"] = intent
    assert post(c, "screen/1", body).status_code == 200


@pytest.mark.parametrize("as_strings", [False, True])
@pytest.mark.parametrize("self_select,routing,intent,scenario,strategy,n", SCENARIOS)
def test_legs_built_from_screen_2_pass_the_gate(flags_cell, self_select, routing, intent, scenario, strategy, n,
                                                as_strings):
    flags_cell(self_select, routing)
    c = client(invite())
    start(c, self_select, intent)
    screen2 = c.get(f"{W}/screen/2")
    assert screen2.status_code == 200
    body = screen2.json()
    assert {"scenario", "title", "copy", "chain", "suggested_strikes"} <= set(body)
    assert body["scenario"] == scenario and body["title"] and body["copy"]
    assert post(c, "screen/2").status_code == 200
    assert c.get(f"{W}/screen/3").status_code == 200
    legs = legs_from_screen2(body, as_strings=as_strings)
    r = post(c, "screen/3", {"legs": legs})
    assert r.status_code == 201, r.json()
    trade = r.json()["paper_trade"]
    assert {"id", "strategy_type", "legs"} <= set(trade)
    assert trade["strategy_type"] == strategy and len(trade["legs"]) == n
    assert all(set(leg) == Q7_KEYS for leg in trade["legs"])
    ((stored_type, legs_json),) = sql("SELECT strategy_type, legs_json FROM beta_walkthrough_paper_trades")
    stored = json.loads(legs_json)
    assert stored_type == strategy
    assert sorted((leg["role"], float(leg["strike"])) for leg in stored) == \
        sorted((leg["role"], float(leg["strike"])) for leg in legs)
    for leg in stored:
        assert set(leg) == Q7_KEYS and isinstance(leg["strike"], float) and isinstance(leg["premium"], float)
        assert leg["option_type"] in ("call", "put") and leg["action"] in ("sell", "buy")
    named = sql("SELECT short_call_strike, long_call_strike, short_put_strike, long_put_strike, wing_width "
                "FROM beta_walkthrough_paper_trades")[0]
    assert all(v is not None for v in named) if strategy == "iron_condor" else all(v is None for v in named)
    assert c.get(f"{W}/status").json()["screen_completed_max"] == 3


def test_directional_door_path_uses_simple_1_with_the_vertical_spread_payload(flags_cell):
    flags_cell(True, True)
    c = client(invite())
    post(c, "screen/1", {"track": "full"})
    post(c, "screen/1/intent", {"intent_bucket": "directional"})
    assert c.get(f"{W}/status").json()["next_screen"] is not None
    guide = c.get(f"{W}/screen/simple/1").json()
    assert guide["scenario"] == "directional"
    assert {leg["role"] for leg in guide["structure"]["legs"]} == {"short_put_vs", "long_put_vs"}
    assert {"structure", "fields"} <= set(guide)
    legs = legs_from_screen2(guide)
    r = post(c, "screen/simple/1", {"legs": legs})
    assert r.status_code == 201 and r.json()["paper_trade"]["strategy_type"] == "vertical_spread"
    assert post(c, "screen/4").status_code == 200
    assert post(c, "screen/5", {"answers": {"rating": 5}}).status_code == 200
    s = c.get(f"{W}/status").json()
    assert s["completed_at"] is not None and s["next_screen"] is None and s["intent_bucket"] == "directional"


def test_directional_door_path_acknowledging_the_guide_without_legs(flags_cell):
    flags_cell(True, True)
    c = client(invite())
    post(c, "screen/1", {"track": "full", "intent_bucket": "directional"})
    assert post(c, "screen/simple/1").status_code == 200
    assert post(c, "screen/4").status_code == 200
    assert post(c, "screen/5").status_code == 200
    assert c.get(f"{W}/status").json()["completed_at"] is not None


def test_inline_vs_guide_on_screen_2_when_routing_on_and_self_select_off(flags_cell):
    flags_cell(False, True)
    c = client(invite())
    start(c, False, "directional")
    body = c.get(f"{W}/screen/2").json()
    assert body["scenario"] == "directional" and body["guide"]
    assert c.get(f"{W}/screen/simple/1").status_code == 404  # the SELF_SELECT guard


LEG_VARIANTS = {
    "int strikes": lambda legs: [{**leg, "strike": int(float(leg["strike"]))} for leg in legs],
    "decimal-string strikes": lambda legs: [{**leg, "strike": f"{float(leg['strike']):.2f}"} for leg in legs],
    "no premium": lambda legs: [{k: v for k, v in leg.items() if k != "premium"} for leg in legs],
    "string premium": lambda legs: [{**leg, "premium": str(leg["premium"])} for leg in legs],
    "reversed order": lambda legs: list(reversed(legs)),
    "upper-case enums": lambda legs: [{**leg, "option_type": leg["option_type"].upper(),
                                       "action": leg["action"].upper()} for leg in legs],
    "datetime expiry": lambda legs: [{**leg, "expiry": leg["expiry"] + "T00:00:00Z"} for leg in legs],
    "extra keys": lambda legs: [{**leg, "quantity": 1, "note": "x"} for leg in legs],
}


@pytest.mark.parametrize("variant", list(LEG_VARIANTS))
@pytest.mark.parametrize("intent", ["income", "covered_call", "directional"])
def test_plausible_leg_encodings_pass(flags_cell, intent, variant):
    flags_cell(False, True)
    c = client(invite())
    start(c, False, intent)
    body = c.get(f"{W}/screen/2").json()
    post(c, "screen/2")
    r = post(c, "screen/3", {"legs": LEG_VARIANTS[variant](legs_from_screen2(body))})
    assert r.status_code == 201, r.json()
    stored = json.loads(sql("SELECT legs_json FROM beta_walkthrough_paper_trades")[0][0])
    assert all(set(leg) == Q7_KEYS for leg in stored)
    assert all(leg["option_type"] in ("call", "put") and leg["action"] in ("sell", "buy") for leg in stored)
    assert all(len(leg["expiry"]) == 10 for leg in stored)


def _gate_case(name, legs):
    legs = [dict(leg) for leg in legs]
    if name == "one leg too few":
        return legs[:-1] if len(legs) > 1 else legs * 3
    if name == "one leg too many":
        return legs + [dict(legs[0])]
    if name == "strike not in chain":
        legs[0]["strike"] = float(legs[0]["strike"]) + 1
        return legs
    if name == "mixed expiries":
        legs[-1]["expiry"] = "2026-07-17"
        return legs
    if name == "swapped strikes" and len(legs) == 1:
        return legs
    if name == "swapped strikes" and len(legs) > 1:
        a, b = legs[0]["strike"], legs[1]["strike"]
        legs[0]["strike"], legs[1]["strike"] = b, a
        return legs
    if name == "wrong action":
        legs[0]["action"] = "buy" if legs[0]["action"] == "sell" else "sell"
        return legs
    if name == "unknown role":
        legs[0]["role"] = "naked_call"
        return legs
    if name == "bad expiry":
        legs[0]["expiry"] = "26/06/2026"
        return legs
    if name == "empty":
        return []
    raise AssertionError(name)


@pytest.mark.parametrize("case", ["one leg too few", "one leg too many", "strike not in chain", "swapped strikes", "wrong action",
                                  "unknown role", "bad expiry", "empty", "mixed expiries"])
@pytest.mark.parametrize("intent", ["income", "covered_call", "directional"])
def test_gate_failures_are_422_and_write_nothing(flags_cell, intent, case):
    flags_cell(False, True)
    c = client(invite())
    start(c, False, intent)
    body = c.get(f"{W}/screen/2").json()
    post(c, "screen/2")
    legs = legs_from_screen2(body)
    if case == "swapped strikes" and len(legs) < 2:
        legs = [{**legs[0], "strike": 190.0}]  # a covered call in the money
    if case == "mixed expiries" and len(legs) < 2:
        legs = [{**legs[0], "expiry": "2026-06-12"}]  # a covered call 1 day out: min_dte
    before = table_counts()
    r = post(c, "screen/3", {"legs": _gate_case(case, legs)})
    assert r.status_code == 422, (case, r.json())
    assert r.json()["error"] == "structure_gate_failed"
    assert isinstance(r.json()["detail"], list) and r.json()["detail"]
    assert table_counts() == before
    assert c.get(f"{W}/status").json()["screen_completed_max"] == 2


def test_covered_call_gates_otm_only_and_min_dte(flags_cell):
    flags_cell(True, True)
    c = client(invite())
    start(c, True, "covered_call")
    body = c.get(f"{W}/screen/2").json()
    post(c, "screen/2")
    underlying = float(body["chain"]["underlying_price"])
    itm = [k for k in body["chain"]["contracts"] if k["type"] == "call" and float(k["strike"]) < underlying
           and k["expiry"] == body["suggested_strikes"]["expiry"]][0]
    leg = {"role": "short_call_cc", "strike": float(itm["strike"]), "expiry": itm["expiry"], "option_type": "call",
           "action": "sell", "premium": mid(itm)}
    r = post(c, "screen/3", {"legs": [leg]})
    assert r.status_code == 422 and "otm_only" in json.dumps(r.json()["detail"])
    near = [k for k in body["chain"]["contracts"] if k["type"] == "call" and float(k["strike"]) > underlying
            and k["dte"] < 7][0]
    leg = {**leg, "strike": float(near["strike"]), "expiry": near["expiry"]}
    r = post(c, "screen/3", {"legs": [leg]})
    assert r.status_code == 422 and "min_dte" in json.dumps(r.json()["detail"])


@pytest.mark.parametrize("body", [{}, {"legs": None}, {"legs": "x"}, {"legs": {}}, {"legs": 3}, [], "legs"])
def test_screen_3_without_a_legs_list_is_4xx(flags_cell, body):
    flags_cell(False, False)
    c = client(invite())
    start(c, False, None)
    post(c, "screen/2")
    r = c.post(f"{W}/screen/3", body, format="json")
    assert r.status_code in (400, 422) and "error" in r.json()
    assert table_counts()["beta_walkthrough_paper_trades"] == 0


# --- order, screens 4 and 5, status -----------------------------------------------

@pytest.mark.parametrize("route", ["screen/2", "screen/3", "screen/4", "screen/5"])
def test_posting_a_screen_not_reached_is_409(flags_cell, route):
    flags_cell(False, False)
    c = client(invite())
    r = post(c, route, {"legs": []} if route == "screen/3" else {})
    assert r.status_code == 409 and r.json()["error"] == "screen_out_of_order"
    assert table_counts()["beta_walkthrough_paper_trades"] == 0


def test_skipping_ahead_mid_walk_is_409_and_gets_are_always_served(flags_cell):
    flags_cell(True, False)
    c = client(invite())
    for route in ("screen/1", "screen/2", "screen/3", "screen/4", "screen/5", "status"):
        assert c.get(f"{W}/{route}").status_code == 200, route  # a GET never advances nor refuses
    post(c, "screen/1", {"track": "full"})
    assert post(c, "screen/4").json() == {"error": "screen_out_of_order"}
    assert post(c, "screen/5", {"answers": {}}).status_code == 409
    assert c.get(f"{W}/status").json()["screen_completed_max"] == 1


@pytest.mark.parametrize("how", ["no body", "empty json object", "empty json string", "form"])
def test_screen_4_with_an_empty_body(flags_cell, how):
    flags_cell(False, False)
    c = client(invite())
    start(c, False, None)
    post(c, "screen/2")
    body = c.get(f"{W}/screen/2").json()
    post(c, "screen/3", {"legs": legs_from_screen2(body)})
    screen4 = c.get(f"{W}/screen/4")
    assert screen4.status_code == 200
    if how == "no body":
        r = c.post(f"{W}/screen/4")
    elif how == "empty json object":
        r = c.post(f"{W}/screen/4", {}, format="json")
    elif how == "empty json string":
        r = c.generic("POST", f"{W}/screen/4", "", content_type="application/json")
    else:
        r = c.post(f"{W}/screen/4", {})
    assert r.status_code == 200, r.content
    assert c.get(f"{W}/status").json()["screen_completed_max"] == 4


SURVEY_BODIES = {
    "answers object": {"answers": {"q1": 5, "q2": "yes", "comment": "Fine"}},
    "answers with our ids": {"answers": {"structure_clear": 4, "fields_clear": 5, "matched_account": "partly"}},
    "flat body": {"rating": 4, "feedback": "Useful walkthrough", "would_recommend": True},
    "answers list": {"answers": [{"question": "q1", "answer": 4}, {"question": "q2", "answer": "no"}]},
    "responses key": {"responses": {"q1": 3}},
    "empty": {},
    "unicode": {"answers": {"comment": "très clair ✓ 日本語"}},
    "numbers as strings": {"answers": {"structure_clear": "4", "q9": "5"}},
    "survey key": {"survey": {"clarity": 5, "nps": 9}},
}


@pytest.mark.parametrize("shape", list(SURVEY_BODIES))
def test_survey_body_shapes_complete_the_walkthrough(flags_cell, shape):
    flags_cell(True, False)
    c = client(invite())
    post(c, "screen/1", {"track": "simple"})
    post(c, "screen/simple/1")
    post(c, "screen/4")
    assert c.get(f"{W}/screen/5").status_code == 200
    r = post(c, "screen/5", SURVEY_BODIES[shape])
    assert r.status_code == 200, r.json()
    s = c.get(f"{W}/status").json()
    assert s["completed_at"] and s["completed_at"].endswith("Z") and s["next_screen"] is None
    assert s["screen_completed_max"] == 5
    assert table_counts()["beta_walkthrough_responses"] == 1
    again = post(c, "screen/5", SURVEY_BODIES[shape])  # harmless re-post
    assert again.status_code == 200 and c.get(f"{W}/status").json()["completed_at"] == s["completed_at"]
    assert table_counts()["beta_walkthrough_responses"] == 1


def test_status_has_the_contract_keys_from_the_first_request(flags_cell):
    flags_cell(False, False)
    c = client(invite())
    s = c.get(f"{W}/status").json()
    assert {"track_selected", "intent_bucket", "screen_completed_max", "completed_at", "scenario",
            "next_screen"} <= set(s)
    assert s["screen_completed_max"] == 0 and s["completed_at"] is None and s["scenario"] == "income"
    assert s["next_screen"] is not None


def test_kill_switch_mid_walk(flags_cell):
    flags_cell(True, True)
    c = client(invite())
    post(c, "screen/1", {"track": "full", "intent_bucket": "covered_call"})
    assert c.get(f"{W}/screen/2").json()["scenario"] == "covered_call"
    post(c, "screen/2")
    flags_cell(True, False)
    body = c.get(f"{W}/screen/2").json()
    assert body["scenario"] == "income" and c.get(f"{W}/status").json()["scenario"] == "income"
    r = post(c, "screen/3", {"legs": legs_from_screen2(body)})
    assert r.status_code == 201 and r.json()["paper_trade"]["strategy_type"] == "iron_condor"


# --- purge ----------------------------------------------------------------------

def _purge(*args) -> str:
    out = StringIO()
    call_command("walkthrough_purge", *args, stdout=out)
    return out.getvalue()


def test_purge_keeps_active_programs_and_dry_run_deletes_nothing(flags_cell):
    flags_cell(False, False)
    c = client(invite())
    start(c, False, None)
    out = _purge("--dry-run")
    assert any(ch.isdigit() for ch in out)
    assert table_counts()["beta_walkthrough_progress"] == 1
    _purge()
    assert table_counts()["beta_walkthrough_progress"] == 1
    assert c.get(f"{W}/status").status_code == 200


def test_purge_deletes_30_days_after_the_program_end_and_not_before(flags_cell):
    flags_cell(False, False)
    c = client(invite())
    start(c, False, None)
    post(c, "screen/2")
    post(c, "screen/3", {"legs": legs_from_screen2(c.get(f"{W}/screen/2").json())})
    ends_on = sql("SELECT p.ends_on FROM beta_walkthrough_programs p")[0][0]
    if isinstance(ends_on, str):
        from datetime import date
        ends_on = date.fromisoformat(ends_on)
    now = timezone.now()
    for days_after, remaining in ((29, 1), (30, 0)):
        day = ends_on + timedelta(days=days_after)
        fake = now.replace(year=day.year, month=day.month, day=day.day)
        with mock.patch("django.utils.timezone.now", return_value=fake):
            dry = _purge("--dry-run")
            assert table_counts()["beta_walkthrough_progress"] == 1
            _purge()
        assert table_counts()["beta_walkthrough_progress"] == remaining, (days_after, dry)
    assert table_counts() == {"beta_walkthrough_progress": 0, "beta_walkthrough_paper_trades": 0,
                              "beta_walkthrough_responses": 0}


# --- never a 500 -----------------------------------------------------------------

NASTY_VALUES = [None, True, 0, -1, 1.5, 10**30, "", " ", "x" * 5000, "\u0000", "é✓日本語\U0001F600", [], {}, [None],
                [[[]]], {"a": {"b": {"c": {"d": {"e": 1}}}}}, ["income"] * 2000]
NASTY_BODIES = (
    [None, [], "str", 1, True]
    + [{key: v} for key in ("track", "answers", "intent_bucket", "legs", "responses") for v in NASTY_VALUES]
    + [{"legs": [v] * n} for v in NASTY_VALUES[:12] for n in (1, 4)]
    + [{"legs": [{"role": v, "strike": v, "expiry": v, "option_type": v, "action": v, "premium": v}] * 4}
       for v in NASTY_VALUES]
    + [{"legs": [{"role": "long_put", "strike": s, "expiry": "2026-06-26"}]} for s in
       ("1e309", "-0", "NaN", "Infinity", "0.000001", "5250.000", "1e3", "5,250", "0x10", 5250.0000001)]
    + [{"legs": [{}] * 5000}, {"track": "full", "intent_bucket": "\u0000income"},
       {"answers": {"\u0000": 1}}]
)
RAW_BODIES = [("{", "application/json"), ("[" * 5000 + "]" * 5000, "application/json"),
              ('{"a": NaN}', "application/json"), ('{"a": 1e999}', "application/json"),
              ('{"answers": {"k": 1e999}, "rating": -1e999}', "application/json"),
              ('{"track": "full", "intent_bucket": 1e999}', "application/json"),
              ('{"legs": [{"role": "long_put", "strike": 1e999, "expiry": "2026-06-26", "premium": -1e999}]}',
               "application/json"),
              ("\xff\xfe", "application/json"), ("track=full", "text/plain"), ("track=full&track=simple",
              "application/x-www-form-urlencoded"), ("legs=1&legs=2", "application/x-www-form-urlencoded"),
              ("--x\r\n", "multipart/form-data; boundary=x"), ("null", "application/json"),
              ('"string"', "application/json"), ("1" * 10000, "application/json")]


def _walk_to(c, stage: int, intent: str = "income"):
    if stage >= 1:
        post(c, "screen/1", {"track": "full", "intent_bucket": intent})
    if stage >= 2:
        post(c, "screen/2")
    if stage >= 3:
        post(c, "screen/3", {"legs": legs_from_screen2(c.get(f"{W}/screen/2").json())})
    if stage >= 4:
        post(c, "screen/4")


@pytest.mark.parametrize("intent,stage,every", [("income", 2, 1), ("income", 0, 7), ("income", 4, 7),
                                                ("directional", 1, 3)])
def test_no_route_answers_500_to_any_body(flags_cell, intent, stage, every):
    """Every body at the stage where screen 3's gate runs; a sample at the others (keeps the suite fast)."""
    flags_cell(True, True)
    c = client(invite())
    _walk_to(c, stage, intent)
    before = sql("SELECT screen_completed_max, track_selected, intent_bucket FROM beta_walkthrough_progress")
    for route in sorted({r for m, r in ROUTES if m == "post"}):
        gated = route == ("screen/simple/1" if intent == "directional" else "screen/3")
        for body in NASTY_BODIES[::every if gated else max(every, 5)]:
            r = c.post(f"{W}/{route}", body, format="json")
            assert r.status_code < 500, (route, body if len(repr(body)) < 200 else repr(body)[:200], r.content[:300])
            assert r["Content-Type"].startswith("application/json")
            if r.status_code >= 400:
                assert isinstance(r.json().get("error"), str)
        for payload, content_type in RAW_BODIES:
            r = c.generic("POST", f"{W}/{route}", payload, content_type=content_type)
            assert r.status_code < 500, (route, payload[:50], content_type, r.content[:300])
    for method, route in ROUTES:
        for query in ("?screen=99", "?intent_bucket=%00", "?a=" + "x" * 3000):
            assert getattr(c, method)(f"{W}/{route}{query}").status_code < 500
    # bodies that are not a successful screen step never move the tester backwards
    after = sql("SELECT screen_completed_max FROM beta_walkthrough_progress")[0][0]
    assert after >= before[0][0]


@pytest.mark.parametrize("self_select,routing", [(False, False), (False, True), (True, False), (True, True)])
def test_every_get_answers_200_json_in_every_flag_cell(flags_cell, self_select, routing):
    flags_cell(self_select, routing)
    c = client(invite())
    for method, route in ROUTES:
        if method != "get":
            continue
        r = c.get(f"{W}/{route}")
        expected = 404 if route == "screen/simple/1" and not self_select else 200
        assert r.status_code == expected, route
        assert r["Content-Type"].startswith("application/json")


# --- admin smoke, commands' bad arguments -------------------------------------------

def test_admin_pages_never_500(admin_client, flags_cell):
    flags_cell(False, True)
    c = client(invite("a@example.test", program="p1"))
    start(c, False, "covered_call")
    base = "/admin/walkthrough/walkthroughprogress/"
    for url in [base, base + "invite/", base + "funnel/", "/admin/walkthrough/walkthroughprogram/",
                "/admin/walkthrough/walkthroughpapertrade/", "/admin/walkthrough/"]:
        assert admin_client.get(url).status_code == 200, url
    for bad in ["\u00b2", "99999999999999999999999", "-1", "1.5", "%00", "x" * 500, ""]:
        for url in [f"{base}funnel/?program={bad}", f"{base}?furthest={bad}", f"{base}?completed={bad}",
                    f"{base}?program__id__exact={bad}", f"{base}?q={bad}"]:
            r = admin_client.get(url)
            assert r.status_code in (200, 302), (url, r.status_code)
    for form in [{}, {"email": "x@example.test", "program": "p" * 101}, {"email": "x@example.test", "program": " "},
                 {"email": "x@example.test", "program": "p2", "ends_on": "31/12/2030"},
                 {"email": "x\u0000@example.test", "program": "p2"}, {"email": "x@example.test", "program": "a\u0000b"},
                 {"email": "y@example.test", "program": "p3", "ends_on": "2001-01-01"}]:
        r = admin_client.post(base + "invite/", form)
        assert r.status_code == 200, (form, r.status_code)


@pytest.mark.parametrize("args", [["x@example.test", "--program", "p" * 101], ["x@example.test", "--program", " "],
                                  ["x@example.test", "--program", "a\u0000b"], ["x\u0000@example.test"], [""]])
def test_invite_command_refuses_bad_arguments_cleanly(db, args):
    from django.core.management.base import CommandError
    with pytest.raises(CommandError):
        call_command("walkthrough_invite", *args, stdout=StringIO())
    assert table_counts()["beta_walkthrough_progress"] == 0


@pytest.mark.parametrize("intent,roles", [("covered_call", {"short_call_cc": "short_call"}),
                                          ("directional", {"short_put_vs": "short_put", "long_put_vs": "long_put"})])
def test_suggested_strikes_key_names_as_roles_are_read_as_the_scenarios_roles(flags_cell, intent, roles):
    flags_cell(False, True)
    c = client(invite())
    start(c, False, intent)
    body = c.get(f"{W}/screen/2").json()
    post(c, "screen/2")
    legs = [{**leg, "role": roles[leg["role"]]} for leg in legs_from_screen2(body)]
    r = post(c, "screen/3", {"legs": legs})
    assert r.status_code == 201, r.json()
    assert {leg["role"] for leg in r.json()["paper_trade"]["legs"]} == set(roles)  # stored as §3.Q7 roles
