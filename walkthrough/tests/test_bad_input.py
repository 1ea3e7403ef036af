"""Bad input answers 4xx with a reason, never 500, and writes nothing."""

import pytest

from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgress, WalkthroughResponse
from walkthrough.tests.conftest import PERSONA, SURVEY, client_for


def snapshot():
    return (list(WalkthroughProgress.objects.values()), list(WalkthroughPaperTrade.objects.values()),
            list(WalkthroughResponse.objects.values()))


@pytest.mark.parametrize("self_select,body,field", [
    (True, {"track": "medium"}, "track"),
    (True, {}, "track"),
    (True, {"track": 1}, "track"),
    (True, {"answers": PERSONA}, "track"),
    (False, {}, "answers"),
    (False, {"answers": "yes"}, "answers"),
    (False, {"answers": {**PERSONA, "deep": {"a": {"b": {"c": {"d": 1}}}}}}, "answers"),
    (False, {"answers": {f"q{i}": "a" for i in range(51)}}, "answers"),
    (False, {"answers": {"comment": "x" * 2001}}, "answers"),
    (False, {"answers": {"nul": "a\x00b"}}, "answers"),
    (False, {"answers": ["experience", "none"]}, "answers"),
])
def test_bad_screen1_bodies_are_400(invite, cell, self_select, body, field):
    cell(self_select, True)
    _, token = invite()
    before = snapshot()
    r = client_for(token).post("/api/walkthrough/screen/1", body, format="json")
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert field in r.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("payload,content_type", [
    ("not json", "application/json"), ("[1, 2]", "application/json"), ('{"track": NaN}', "application/json"),
    ("track=full", "text/plain"), ("<track>full</track>", "application/xml"),
])
def test_unparseable_or_non_object_bodies_are_4xx(invite, cell, payload, content_type):
    cell(True, False)
    _, token = invite()
    before = snapshot()
    for route in ("screen/1", "screen/1/intent", "screen/2", "screen/3", "screen/4", "screen/5", "screen/simple/1"):
        r = client_for(token).generic("POST", f"/api/walkthrough/{route}", payload, content_type=content_type)
        assert 400 <= r.status_code < 500, (route, r.status_code)
        assert "error" in r.json()
    assert snapshot() == before


def test_bad_survey_answers_are_400_and_do_not_complete(invite, cell):
    cell(False, False)
    progress, token = invite()
    c = client_for(token)
    progress.screen_completed_max = 4
    progress.save()
    for answers in ["great", 5, {**SURVEY, "structure_clear": 9}, {**SURVEY, "structure_clear": True},
                    {**SURVEY, "structure_clear": "many"}, {**SURVEY, "matched_account": "maybe"},
                    {**SURVEY, "comment": "x" * 2001}, {**SURVEY, "extra": {"a": {"b": {"c": {"d": 1}}}}},
                    {f"q{i}": 1 for i in range(51)}, [{"q": i} for i in range(60)]]:
        r = c.post("/api/walkthrough/screen/5", {"answers": answers}, format="json")
        assert r.status_code == 400 and r.json()["error"] == "invalid_request", answers
    row = WalkthroughProgress.objects.get(pk=progress.pk)
    assert row.completed_at is None and row.screen_completed_max == 4
    assert not WalkthroughResponse.objects.exists()


def test_persona_answers_beyond_the_known_questions_are_kept(invite, cell):
    cell(False, True)
    progress, token = invite()
    answers = {"experience": "beginner", "goal": "learn spreads", "structures": ["spreads"]}
    r = client_for(token).post("/api/walkthrough/screen/1", {"answers": answers, "intent_bucket": ["income"]},
                               format="json")
    assert r.status_code == 200 and r.json()["progress"]["intent_bucket"] == "unknown"
    assert WalkthroughProgress.objects.get(pk=progress.pk).persona_answers == answers


def test_a_survey_without_answers_still_completes(invite, cell):
    cell(False, False)
    progress, token = invite()
    progress.screen_completed_max = 4
    progress.save()
    r = client_for(token).post("/api/walkthrough/screen/5", {}, format="json")
    assert r.status_code == 200 and r.json()["progress"]["completed_at"]
    assert WalkthroughResponse.objects.get().answers == {}


def test_bad_intent_body_is_400(invite, cell):
    cell(True, True)
    _, token = invite()
    c = client_for(token)
    c.post("/api/walkthrough/screen/1", {"track": "full"}, format="json")
    for body in [{}, {"intent_bucket": None}]:
        r = c.post("/api/walkthrough/screen/1/intent", body, format="json")
        assert r.status_code == 400 and "intent_bucket" in r.json()["detail"]


def test_bad_scenario_answers_are_400(invite, cell):
    cell(False, False)
    _, token = invite()
    c = client_for(token)
    c.post("/api/walkthrough/screen/1", {"answers": PERSONA}, format="json")
    r = c.post("/api/walkthrough/screen/2", {"answers": ["a"]}, format="json")
    assert r.status_code == 400 and "answers" in r.json()["detail"]


def test_unknown_routes_and_methods_are_json_4xx(invite):
    _, token = invite()
    c = client_for(token)
    assert c.get("/api/walkthrough/screen/6").status_code == 404
    assert c.get("/api/walkthrough/screen/2/").status_code == 404
    r = c.delete("/api/walkthrough/screen/2")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
