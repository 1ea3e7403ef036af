"""A screen POST decides from the row authentication read and writes only while the row is
unchanged; a tab whose row moved since is decided again on the fresh row (services.py)."""

from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgress, WalkthroughResponse
from walkthrough.routing import Cell
from walkthrough.selectors import progress_for_token
from walkthrough.services import (intent_submit, screen1_submit, screen2_submit, screen3_submit, screen4_submit,
                                  screen5_submit)
from walkthrough.tests.conftest import IC_LEGS, PERSONA, SURVEY
from walkthrough.tokens import token_hash

PERSONA_PATH = Cell(self_select=False, routing=False)
DOOR_ROUTED = Cell(self_select=True, routing=True)


def read(token):
    """The row as authentication reads it."""
    return progress_for_token(token_hash=token_hash(token))


def test_the_token_lookup_reads_the_row_as_the_orm_does(invite):
    progress, token = invite()
    screen1_submit(progress=read(token), cell=DOOR_ROUTED, track="full", answers=None, intent="covered_call")
    fast, orm = read(token), WalkthroughProgress.objects.select_related("program").get(pk=progress.pk)
    for field in ("id", "tester_email", "program_id", "track_selected", "intent_bucket", "screen_completed_max",
                  "flag_cell", "completed_at", "created_at", "updated_at"):
        assert getattr(fast, field) == getattr(orm, field), field
    for field in ("id", "name", "starts_on", "ends_on", "created_at"):
        assert getattr(fast.program, field) == getattr(orm.program, field), field
    assert fast.updated_at.tzinfo is not None and fast.persona_answers is None  # deferred: loads on access
    assert read("wt1.not-a.token") is None


def test_an_intent_from_a_tab_that_read_the_row_before_screen_2_is_not_stored(invite):
    _, token = invite()
    screen1_submit(progress=read(token), cell=DOOR_ROUTED, track="full", answers=None, intent="income")
    stale = read(token)
    screen2_submit(progress=read(token), cell=DOOR_ROUTED, answers={"read": "yes"})
    progress = intent_submit(progress=stale, cell=DOOR_ROUTED, intent="directional")
    assert progress.intent_bucket == "income" and progress.screen_completed_max == 2
    assert read(token).intent_bucket == "income"


def test_screen_2_from_a_stale_tab_keeps_the_first_answers_and_never_lowers_the_max(invite):
    _, token = invite()
    screen1_submit(progress=read(token), cell=PERSONA_PATH, track=None, answers=PERSONA, intent=None)
    stale = read(token)
    screen2_submit(progress=read(token), cell=PERSONA_PATH, answers={"tab": "one"})
    screen3_submit(progress=read(token), cell=PERSONA_PATH, legs=IC_LEGS)
    progress = screen2_submit(progress=stale, cell=PERSONA_PATH, answers={"tab": "two"})
    row = WalkthroughProgress.objects.get(pk=progress.pk)
    assert row.scenario_answers == {"tab": "one"} and row.screen_completed_max == 3 == progress.screen_completed_max


def test_screen_3_from_a_stale_tab_returns_the_stored_trade(invite):
    _, token = invite()
    screen1_submit(progress=read(token), cell=PERSONA_PATH, track=None, answers=PERSONA, intent=None)
    screen2_submit(progress=read(token), cell=PERSONA_PATH, answers=None)
    stale = read(token)
    _, first, created = screen3_submit(progress=read(token), cell=PERSONA_PATH, legs=IC_LEGS)
    _, again, created_again = screen3_submit(progress=stale, cell=PERSONA_PATH, legs=IC_LEGS)
    assert created and not created_again and again.pk == first.pk
    assert WalkthroughPaperTrade.objects.count() == 1
    stored = WalkthroughPaperTrade.objects.get()
    assert (stored.legs_json, stored.strategy_type, stored.underlying) == (
        first.legs_json, first.strategy_type, first.underlying)
    assert stored.created_at == first.created_at and stored.wing_width == first.wing_width == 50


def test_screen_5_from_a_stale_tab_keeps_the_first_survey_and_completion(invite):
    _, token = invite()
    screen1_submit(progress=read(token), cell=PERSONA_PATH, track=None, answers=PERSONA, intent=None)
    screen2_submit(progress=read(token), cell=PERSONA_PATH, answers=None)
    screen3_submit(progress=read(token), cell=PERSONA_PATH, legs=IC_LEGS)
    screen4_submit(progress=read(token), cell=PERSONA_PATH)
    stale = read(token)
    done = screen5_submit(progress=read(token), cell=PERSONA_PATH, answers=SURVEY)
    again = screen5_submit(progress=stale, cell=PERSONA_PATH, answers={"structure_clear": 1})
    assert again.completed_at == done.completed_at == read(token).completed_at
    assert WalkthroughResponse.objects.get().answers == SURVEY
