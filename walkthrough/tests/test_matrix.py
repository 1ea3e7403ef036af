"""Every cell of the flag matrix × every intent, from invite to completed_at (design §3.Q1, §3.Q6)."""

import json

import pytest

from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgress
from walkthrough.tests.conftest import LEGS, PERSONA, SURVEY, client_for

INTENTS = {"income": "income", "covered_call": "covered_call", "directional": "directional",
           "unknown": "day_trading_maybe"}  # an unrecognised value: stored as unknown, routed as income
ROUTED = {"income": ("income", "ic", "iron_condor"), "covered_call": ("covered_call", "cc", "covered_call"),
          "directional": ("directional", "vs", "vertical_spread"), "unknown": ("income", "ic", "iron_condor")}


def expected_walk(self_select: bool, routing: bool, intent: str):
    scenario, builder, strategy = ROUTED[intent] if routing else ROUTED["income"]
    head = [("screen/1", None)] + ([("screen/1/intent", None)] if self_select and routing else [])
    if self_select and routing and intent == "directional":
        middle = [("screen/simple/1", "directional")]
    else:
        middle = [("screen/2", scenario), ("screen/3", builder)]
    stored = (intent if intent != "unknown" else "unknown") if routing else None
    return head + middle + [("screen/4", None), ("screen/5", None)], strategy, stored


def post_body(step: str, self_select: bool, intent_value: str, get_body: dict) -> dict:
    if step == "screen/1":
        body = {"track": "full"} if self_select else {"answers": PERSONA}
        if not self_select:
            body["intent_bucket"] = intent_value  # inline shape; ignored while routing is off
        return body
    if step == "screen/1/intent":
        return {"intent_bucket": intent_value}
    if step == "screen/2":
        return {"answers": {"read": "yes"}}
    if step == "screen/3":
        return {"legs": LEGS[get_body["builder"]]}
    if step == "screen/simple/1":
        return {"legs": LEGS["vs"]}
    if step == "screen/5":
        return {"answers": SURVEY}
    return {}


def walk(client, self_select: bool, intent_value: str) -> list[tuple[str, str | None]]:
    seen = []
    for _ in range(12):
        status = client.get("/api/walkthrough/status")
        assert status.status_code == 200
        step = status.json()["next_screen"]
        if step is None:
            return seen
        path = f"/api/walkthrough/{step}"
        get_body = {}
        if step != "screen/1/intent":
            got = client.get(path)
            assert got.status_code == 200, (step, got.json())
            get_body = got.json()
        mark = get_body.get("builder") if step == "screen/3" else get_body.get("scenario") if step in (
            "screen/2", "screen/simple/1") else None
        posted = client.post(path, post_body(step, self_select, intent_value, get_body), format="json")
        assert posted.status_code in (200, 201), (step, posted.json())
        seen.append((step, mark))
    raise AssertionError(f"dead end: {seen}")


@pytest.mark.parametrize("intent", list(INTENTS))
@pytest.mark.parametrize("self_select,routing", [(False, False), (False, True), (True, False), (True, True)])
def test_every_cell_and_intent_reaches_completed_at(invite, cell, self_select, routing, intent):
    cell(self_select, routing)
    progress, token = invite()
    seen = walk(client_for(token), self_select, INTENTS[intent])

    steps, strategy, stored = expected_walk(self_select, routing, intent)
    assert seen == steps
    row = WalkthroughProgress.objects.get(pk=progress.pk)
    assert row.completed_at is not None and row.screen_completed_max == 5
    assert row.intent_bucket == stored
    assert row.track_selected == ("full" if self_select else None)
    assert row.flag_cell == f"ss_{'on' if self_select else 'off'}/pr_{'on' if routing else 'off'}"
    trade = WalkthroughPaperTrade.objects.get(progress=row)
    assert trade.strategy_type == strategy
    assert [leg["role"] for leg in json.loads(trade.legs_json)] == {
        "iron_condor": ["long_put", "short_put", "short_call", "long_call"],
        "covered_call": ["short_call_cc"], "vertical_spread": ["long_put_vs", "short_put_vs"]}[strategy]
    assert row.response.answers == SURVEY


@pytest.mark.parametrize("routing", [False, True])
def test_simple_track_walks_the_static_guide(invite, cell, routing):
    cell(True, routing)
    progress, token = invite()
    c = client_for(token)
    assert c.post("/api/walkthrough/screen/1", {"track": "simple"}, format="json").json()["progress"][
        "next_screen"] == "screen/simple/1"
    guide = c.get("/api/walkthrough/screen/simple/1").json()
    assert guide["scenario"] == "simple" and guide["structure"]["legs"][0]["role"] == "short_put_vs"
    assert c.post("/api/walkthrough/screen/simple/1", {}, format="json").json()["paper_trade"] is None
    assert c.post("/api/walkthrough/screen/4", {}, format="json").status_code == 200
    done = c.post("/api/walkthrough/screen/5", {"answers": SURVEY}, format="json").json()["progress"]
    assert done["completed_at"].endswith("Z") and done["next_screen"] is None
    assert not WalkthroughPaperTrade.objects.exists()


def test_intent_inline_with_the_door_post(invite, cell):
    cell(True, True)
    progress, token = invite()
    c = client_for(token)
    body = c.post("/api/walkthrough/screen/1", {"track": "full", "intent_bucket": "covered_call"}, format="json").json()
    assert body["intent_question"] is None
    assert body["progress"]["next_screen"] == "screen/2"
    assert c.get("/api/walkthrough/screen/2").json()["scenario"] == "covered_call"


def test_door_post_offers_the_intent_question(invite, cell):
    cell(True, True)
    progress, token = invite()
    body = client_for(token).post("/api/walkthrough/screen/1", {"track": "full"}, format="json").json()
    assert [c["intent_bucket"] for c in body["intent_question"]["choices"]] == ["income", "covered_call", "directional"]
    assert body["progress"]["next_screen"] == "screen/1/intent"


def test_directional_with_self_select_off_gets_the_inline_guide_on_screen_2(invite, cell):
    cell(False, True)
    progress, token = invite()
    c = client_for(token)
    c.post("/api/walkthrough/screen/1", {"answers": PERSONA, "intent_bucket": "directional"}, format="json")
    screen2 = c.get("/api/walkthrough/screen/2").json()
    assert screen2["scenario"] == "directional"
    assert screen2["guide"]["scenario"] == "directional" and screen2["guide"]["structure"]["legs"]
    assert c.get("/api/walkthrough/screen/simple/1").status_code == 404  # gated by SELF_SELECT


def test_simple_guide_serves_the_directional_payload(invite, cell):
    cell(True, True)
    progress, token = invite()
    c = client_for(token)
    c.post("/api/walkthrough/screen/1", {"track": "full", "intent_bucket": "directional"}, format="json")
    guide = c.get("/api/walkthrough/screen/simple/1").json()
    assert guide["scenario"] == "directional"
    assert guide["title"].startswith("Directional")
    assert guide["chain"]["underlying"] == "SPY"
