"""Screens in order, harmless re-posts, kill switch, audit trail of updated_at."""

import logging

from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgress, WalkthroughResponse
from walkthrough.tests.conftest import CC_LEGS, IC_LEGS, PERSONA, SURVEY, VS_LEGS, client_for


def post(c, step, body=None):
    return c.post(f"/api/walkthrough/{step}", body or {}, format="json")


def test_posting_a_screen_not_reached_is_409(tester, cell):
    progress, c, _ = tester
    cell(False, False)
    for step, body in [("screen/2", {}), ("screen/3", {"legs": IC_LEGS}), ("screen/4", {}),
                       ("screen/5", {"answers": SURVEY})]:
        r = post(c, step, body)
        assert r.status_code == 409 and r.json()["error"] == "screen_out_of_order", step
        assert r.json() == {"error": "screen_out_of_order"}  # exactly CONTRACTS §5; /status says where to go
    assert c.get("/api/walkthrough/status").json()["next_screen"] == "screen/1"
    assert post(c, "screen/1", {"answers": PERSONA}).status_code == 200
    r = post(c, "screen/4")
    assert r.status_code == 409 and r.json() == {"error": "screen_out_of_order"}
    assert c.get("/api/walkthrough/status").json()["next_screen"] == "screen/2"
    progress.refresh_from_db()
    assert progress.screen_completed_max == 1
    assert not WalkthroughPaperTrade.objects.exists() and not WalkthroughResponse.objects.exists()


def test_screens_off_the_testers_path_are_409(invite, cell):
    cell(True, True)
    _, token = invite()
    c = client_for(token)
    post(c, "screen/1", {"track": "simple"})
    assert post(c, "screen/2").json()["error"] == "screen_out_of_order"
    assert post(c, "screen/3", {"legs": IC_LEGS}).status_code == 409


def test_every_screen_post_advances_updated_at_and_max(tester, cell):
    progress, c, _ = tester
    cell(False, False)
    stamps = [WalkthroughProgress.objects.get(pk=progress.pk).updated_at]
    for step, body, expected_max in [("screen/1", {"answers": PERSONA}, 1), ("screen/2", {}, 2),
                                     ("screen/3", {"legs": IC_LEGS}, 3), ("screen/4", {}, 4),
                                     ("screen/5", {"answers": SURVEY}, 5), ("screen/2", {}, 5)]:
        assert post(c, step, body).status_code in (200, 201)
        row = WalkthroughProgress.objects.get(pk=progress.pk)
        assert row.screen_completed_max == expected_max
        assert row.updated_at > stamps[-1]
        stamps.append(row.updated_at)


def test_reposting_finished_screens_is_harmless(tester, cell):
    progress, c, _ = tester
    cell(False, False)
    post(c, "screen/1", {"answers": PERSONA})
    post(c, "screen/2", {"answers": {"a": "b"}})
    first = post(c, "screen/3", {"legs": IC_LEGS})
    assert first.status_code == 201
    again = post(c, "screen/3", {"legs": IC_LEGS})
    assert again.status_code == 200 and again.json()["paper_trade"] == first.json()["paper_trade"]
    assert post(c, "screen/1", {"answers": {**PERSONA, "experience": "none"}}).status_code == 200
    assert post(c, "screen/2", {"answers": {"c": "d"}}).status_code == 200
    post(c, "screen/4")
    done = post(c, "screen/5", {"answers": SURVEY}).json()["progress"]["completed_at"]
    redo = post(c, "screen/5", {"answers": {"structure_clear": 1}})
    assert redo.status_code == 200 and redo.json()["progress"]["completed_at"] == done
    row = WalkthroughProgress.objects.get(pk=progress.pk)
    assert row.persona_answers == PERSONA and row.scenario_answers == {"a": "b"}
    assert WalkthroughPaperTrade.objects.count() == 1 and WalkthroughResponse.objects.get().answers == SURVEY


def test_intent_can_change_until_screen_2_then_is_kept(invite, cell):
    cell(True, True)
    progress, token = invite()
    c = client_for(token)
    post(c, "screen/1", {"track": "full"})
    post(c, "screen/1/intent", {"intent_bucket": "income"})
    post(c, "screen/1/intent", {"intent_bucket": "covered_call"})
    post(c, "screen/2")
    r = post(c, "screen/1/intent", {"intent_bucket": "directional"})
    assert r.status_code == 200 and r.json()["progress"]["intent_bucket"] == "covered_call"


def test_intent_before_screen_1_is_409_and_404_while_routing_is_off(invite, cell):
    _, token = invite()
    c = client_for(token)
    cell(True, True)
    assert post(c, "screen/1/intent", {"intent_bucket": "income"}).status_code == 409
    cell(True, False)
    assert post(c, "screen/1/intent", {"intent_bucket": "income"}).json()["error"] == "not_found"


def test_unknown_and_missing_intent_route_as_income_with_a_warning(invite, cell, caplog):
    cell(False, True)
    progress, token = invite()
    c = client_for(token)
    with caplog.at_level(logging.WARNING, logger="walkthrough"):
        post(c, "screen/1", {"answers": PERSONA, "intent_bucket": "unknown"})
        assert c.get("/api/walkthrough/screen/2").json()["scenario"] == "income"
    assert WalkthroughProgress.objects.get(pk=progress.pk).intent_bucket == "unknown"
    assert any("routing as income" in r.getMessage() for r in caplog.records)

    other, token2 = invite("null-intent@example.test")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="walkthrough"):
        c2 = client_for(token2)
        post(c2, "screen/1", {"answers": PERSONA})
        assert c2.get("/api/walkthrough/status").json()["scenario"] == "income"
        assert not caplog.records  # polling status does not repeat the warning
        assert c2.get("/api/walkthrough/screen/2").json()["scenario"] == "income"
    assert WalkthroughProgress.objects.get(pk=other.pk).intent_bucket is None
    assert any("intent_bucket=None" in r.getMessage() for r in caplog.records)


def test_kill_switch_mid_way_sends_everyone_to_the_iron_condor(invite, cell):
    cell(True, True)
    testers = {}
    for intent in ("covered_call", "directional", "income"):
        progress, token = invite(f"{intent}@example.test")
        c = client_for(token)
        post(c, "screen/1", {"track": "full", "intent_bucket": intent})
        testers[intent] = (progress, c)
    cc = testers["covered_call"][1]
    post(cc, "screen/2")  # saw the covered-call scenario, builder not done yet
    assert cc.get("/api/walkthrough/screen/3").json()["builder"] == "cc"

    cell(True, False)  # kill switch: no migration, no error
    for intent, (progress, c) in testers.items():
        status = c.get("/api/walkthrough/status").json()
        assert status["scenario"] == "income" and status["builder"] == "ic", intent
        assert status["intent_bucket"] == intent  # kept, just not read
        assert c.get("/api/walkthrough/screen/2").json()["scenario"] == "income"
        assert c.get("/api/walkthrough/screen/3").json()["builder"] == "ic"
    assert post(cc, "screen/3", {"legs": CC_LEGS}).status_code == 422
    assert post(cc, "screen/3", {"legs": IC_LEGS}).json()["paper_trade"]["strategy_type"] == "iron_condor"
    directional = testers["directional"][1]
    assert directional.get("/api/walkthrough/status").json()["next_screen"] == "screen/2"
    for step, body in [("screen/2", {}), ("screen/3", {"legs": IC_LEGS}), ("screen/4", {}),
                       ("screen/5", {"answers": SURVEY})]:
        assert post(directional, step, body).status_code in (200, 201), step
    assert WalkthroughProgress.objects.get(pk=testers["directional"][0].pk).completed_at is not None


def test_kill_switch_after_the_simple_guide_continues_at_screen_4(invite, cell):
    cell(True, True)
    progress, token = invite()
    c = client_for(token)
    post(c, "screen/1", {"track": "full", "intent_bucket": "directional"})
    assert post(c, "screen/simple/1", {"legs": VS_LEGS}).status_code == 201
    cell(False, False)
    assert c.get("/api/walkthrough/status").json()["next_screen"] == "screen/4"
    post(c, "screen/4")
    assert post(c, "screen/5", {"answers": SURVEY}).status_code == 200


def test_status_has_the_contract_keys(tester, cell):
    _, c, _ = tester
    cell(True, True)
    body = c.get("/api/walkthrough/status").json()
    assert {"track_selected", "intent_bucket", "screen_completed_max", "completed_at", "scenario",
            "next_screen"} <= set(body)
    assert body["next_screen"] == "screen/1" and body["screen_completed_max"] == 0
