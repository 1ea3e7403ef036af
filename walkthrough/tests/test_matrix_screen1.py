"""Design §3.Q1, screen 1 of each of the four flag cells: what GET /screen/1 renders
(persona-match questions or the door; the intent question or not)."""

import pytest

from walkthrough.scenarios import DOOR_SCREEN, INTENT_QUESTION, PERSONA_QUESTIONS
from walkthrough.tests.conftest import client_for

URL = "/api/walkthrough/screen/1"


def screen1(invite, cell, self_select: bool, routing: bool, email="m@example.test"):
    cell(self_select, routing)
    _, token = invite(email)
    client = client_for(token)
    response = client.get(URL)
    assert response.status_code == 200
    return client, response.json()


def assert_persona_match(body):
    assert body["kind"] == "persona_match"
    assert body["questions"] == PERSONA_QUESTIONS
    assert "choices" not in body  # no door


def assert_door(body):
    assert body["kind"] == "door"
    assert body["choices"] == DOOR_SCREEN["choices"]
    assert [c["track"] for c in body["choices"]] == ["simple", "full"]
    assert "questions" not in body  # no persona-match questions


def test_off_off_persona_questions_no_door_no_intent_question(invite, cell):
    _, body = screen1(invite, cell, False, False)
    assert_persona_match(body)
    assert body["intent_question"] is None


def test_off_on_persona_questions_with_the_intent_question(invite, cell):
    _, body = screen1(invite, cell, False, True)
    assert_persona_match(body)
    assert body["intent_question"] == INTENT_QUESTION
    assert [c["intent_bucket"] for c in body["intent_question"]["choices"]] == ["income", "covered_call", "directional"]


def test_on_off_door_and_never_an_intent_question(invite, cell):
    client, body = screen1(invite, cell, True, False)
    assert_door(body)
    assert body["intent_question"] is None
    assert client.post(URL, {"track": "full"}, format="json").status_code == 200
    assert client.get(URL).json()["intent_question"] is None  # full track, routing off: IC unchanged


@pytest.mark.parametrize("track,asked", [("full", True), ("simple", False)])
def test_on_on_door_then_the_intent_question_on_the_full_track_only(invite, cell, track, asked):
    client, body = screen1(invite, cell, True, True)
    assert_door(body)
    assert body["intent_question"] is None  # asked after the door, on the full track
    assert client.post(URL, {"track": track}, format="json").status_code == 200
    after = client.get(URL).json()
    assert_door(after)
    assert after["intent_question"] == (INTENT_QUESTION if asked else None)
