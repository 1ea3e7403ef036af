"""Walkthrough writes. Every write goes to a ``beta_walkthrough_*`` table only.

Screen POSTs lock the tester's progress row (``select_for_update``) so two
concurrent posts (a double click on screen 3) cannot both write a paper trade
or move ``screen_completed_max`` backwards; the one-to-one paper trade is the
database's second line of defence.

Re-posting a screen the tester already finished is harmless: nothing but
``updated_at`` and ``flag_cell`` changes (the intent may still be given while
screen 2 is not done), and the response repeats the stored outcome.
"""

import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from raxx.errors import ApplicationError

from .gates import check_legs
from .models import INTENT_BUCKETS, WalkthroughPaperTrade, WalkthroughProgram, WalkthroughProgress, WalkthroughResponse
from .routing import COMPLETES, INTENT_STEP, Cell, route_for
from .scenarios import _load_vs_chain, scenario_fixture
from .tokens import new_token, token_hash

logger = logging.getLogger(__name__)

SCREEN_OUT_OF_ORDER = "screen_out_of_order"
STRUCTURE_GATE_FAILED = "structure_gate_failed"
PURGE_AFTER = timedelta(days=30)
DEFAULT_PROGRAM = "beta"
DEFAULT_PROGRAM_DAYS = 60


# --- invites -----------------------------------------------------------------

@dataclass(frozen=True)
class Invite:
    progress: WalkthroughProgress
    token: str  # shown once to whoever issued the invite; never stored
    created: bool


def program_get_or_create(*, name: str, ends_on: date | None = None) -> WalkthroughProgram:
    today = timezone.now().date()
    ends_on = ends_on or today + timedelta(days=DEFAULT_PROGRAM_DAYS)
    program, _ = WalkthroughProgram.objects.get_or_create(
        name=name, defaults={"starts_on": min(today, ends_on), "ends_on": ends_on})
    return program


@transaction.atomic
def walkthrough_invite(*, email: str, program: WalkthroughProgram) -> Invite:
    """A new token for ``email`` in ``program``. Re-inviting keeps the progress and revokes the old token."""
    email = email.strip().lower()
    token = new_token()
    progress = WalkthroughProgress.objects.select_for_update().filter(tester_email=email, program=program).first()
    created = progress is None
    if created:
        progress = WalkthroughProgress.objects.create(tester_email=email, program=program, token_hash=token_hash(token))
    else:
        progress.token_hash = token_hash(token)
        progress.save(update_fields=["token_hash", "updated_at"])
    return Invite(progress=progress, token=token, created=created)


# --- screens -----------------------------------------------------------------

def _locked(progress: WalkthroughProgress) -> WalkthroughProgress:
    locked = WalkthroughProgress.objects.select_for_update().get(pk=progress.pk)
    locked.program = progress.program  # already loaded by authentication
    return locked


def _require_step(progress: WalkthroughProgress, cell: Cell, step: str):
    route = route_for(progress, cell, warn=step in ("2", "3"))
    if not route.allows(step) or progress.screen_completed_max < route.requires(step):
        # The body is exactly CONTRACTS §5's; GET /status names the screen to post next.
        raise ApplicationError(SCREEN_OUT_OF_ORDER, status_code=409)
    return route


def _advance(progress: WalkthroughProgress, cell: Cell, step: str | None, fields: list[str]) -> None:
    if step is not None:
        progress.screen_completed_max = max(progress.screen_completed_max, COMPLETES[step])
    progress.flag_cell = cell.label
    progress.save(update_fields=[*fields, "screen_completed_max", "flag_cell", "updated_at"])


def normalise_intent(value) -> str:
    if isinstance(value, str) and value in INTENT_BUCKETS:
        return value
    # The value is what a tester typed: logged by type and length only (never submitted text).
    logger.warning("walkthrough intent_bucket not recognised (a %s of length %s); stored as unknown and routed "
                   "as income", type(value).__name__, len(value) if isinstance(value, str | list | dict) else "-")
    return "unknown"


def _intent_fields(progress: WalkthroughProgress, intent) -> list[str]:
    """Set the intent while screen 2 is not done yet; later it is kept (harmless re-post)."""
    if intent is None or progress.screen_completed_max >= 2:
        return []
    progress.intent_bucket = normalise_intent(intent)
    return ["intent_bucket"]


@transaction.atomic
def screen1_submit(*, progress: WalkthroughProgress, cell: Cell, track: str | None, answers: dict | None,
                   intent: str | None) -> WalkthroughProgress:
    progress = _locked(progress)
    fields = []
    if progress.screen_completed_max < 1:
        if cell.self_select:
            progress.track_selected = track
            fields.append("track_selected")
        else:
            progress.persona_answers = answers
            fields.append("persona_answers")
    if cell.routing:
        fields += _intent_fields(progress, intent)
    _advance(progress, cell, "1", fields)
    return progress


@transaction.atomic
def intent_submit(*, progress: WalkthroughProgress, cell: Cell, intent: str) -> WalkthroughProgress:
    progress = _locked(progress)
    _require_step(progress, cell, INTENT_STEP)
    _advance(progress, cell, None, _intent_fields(progress, intent))
    return progress


@transaction.atomic
def screen2_submit(*, progress: WalkthroughProgress, cell: Cell, answers: dict | None) -> WalkthroughProgress:
    progress = _locked(progress)
    _require_step(progress, cell, "2")
    fields = []
    if progress.screen_completed_max < 2:
        progress.scenario_answers = answers
        fields.append("scenario_answers")
    _advance(progress, cell, "2", fields)
    return progress


def _legs_json(legs: list[dict]) -> str:
    return json.dumps(legs, separators=(",", ":"))


def _paper_trade(progress: WalkthroughProgress, strategy_type: str, legs: list[dict], underlying: str):
    named = {}
    if strategy_type == "iron_condor":
        strike = {leg["role"]: Decimal(str(leg["strike"])) for leg in legs}
        named = {"short_call_strike": strike["short_call"], "long_call_strike": strike["long_call"],
                 "short_put_strike": strike["short_put"], "long_put_strike": strike["long_put"],
                 # Unequal wings are allowed; the wider wing bounds the loss, so that is the width kept.
                 "wing_width": max(strike["short_put"] - strike["long_put"], strike["long_call"] - strike["short_call"])}
    return WalkthroughPaperTrade.objects.create(progress=progress, strategy_type=strategy_type, underlying=underlying,
                                                legs_json=_legs_json(legs), **named)


def _fill(progress: WalkthroughProgress, cell: Cell, step: str, builder: str, fixture: dict | None, legs: list):
    """Gate ``legs`` and write the paper trade; a finished step returns the stored one."""
    existing = WalkthroughPaperTrade.objects.filter(progress=progress).first()
    if existing is not None:
        _advance(progress, cell, step, [])
        return existing, False
    if fixture is None:  # the iron condor chain itself is missing: a deployment error, not bad input
        raise ApplicationError("scenario_unavailable", status_code=503)
    strategy_type, clean, reasons = check_legs(builder, legs, fixture)
    if reasons:
        raise ApplicationError(STRUCTURE_GATE_FAILED, detail=reasons, status_code=422)
    trade = _paper_trade(progress, strategy_type, clean, fixture["raw"]["_meta"]["underlying"])
    _advance(progress, cell, step, [])
    return trade, True


@transaction.atomic
def screen3_submit(*, progress: WalkthroughProgress, cell: Cell, legs: list):
    """(progress, paper trade, created). Gate failures raise 422 and write nothing."""
    progress = _locked(progress)
    route = _require_step(progress, cell, "3")
    builder = "vs" if route.builder == "simple" else route.builder  # directional via screen 3
    return (progress, *_fill(progress, cell, "3", builder, scenario_fixture(route.scenario), legs))


@transaction.atomic
def simple1_submit(*, progress: WalkthroughProgress, cell: Cell, legs: list | None):
    """Acknowledge the static guide; optional legs are gated as a vertical spread and filled."""
    progress = _locked(progress)
    _require_step(progress, cell, "simple/1")
    if legs is None:
        _advance(progress, cell, "simple/1", [])
        return progress, None, False
    return (progress, *_fill(progress, cell, "simple/1", "vs", _load_vs_chain(), legs))


@transaction.atomic
def screen4_submit(*, progress: WalkthroughProgress, cell: Cell) -> WalkthroughProgress:
    progress = _locked(progress)
    _require_step(progress, cell, "4")
    _advance(progress, cell, "4", [])
    return progress


@transaction.atomic
def screen5_submit(*, progress: WalkthroughProgress, cell: Cell, answers: dict) -> WalkthroughProgress:
    progress = _locked(progress)
    _require_step(progress, cell, "5")
    fields = []
    if progress.completed_at is None:
        WalkthroughResponse.objects.create(progress=progress, answers=answers)
        progress.completed_at = timezone.now()
        fields.append("completed_at")
    _advance(progress, cell, "5", fields)
    return progress


# --- purge -------------------------------------------------------------------

def purge_cutoff(today: date | None = None) -> date:
    """Programs that ended on or before this date are past their 30-day retention."""
    return (today or timezone.now().date()) - PURGE_AFTER


def purge_candidates(today: date | None = None):
    return WalkthroughProgress.objects.filter(program__ends_on__lte=purge_cutoff(today))


def purge_counts(today: date | None = None) -> dict[str, int]:
    candidates = purge_candidates(today)
    return {
        "beta_walkthrough_progress": candidates.count(),
        "beta_walkthrough_paper_trades": WalkthroughPaperTrade.objects.filter(progress__in=candidates).count(),
        "beta_walkthrough_responses": WalkthroughResponse.objects.filter(progress__in=candidates).count(),
    }


@transaction.atomic
def walkthrough_purge(*, today: date | None = None, dry_run: bool = False) -> dict[str, int]:
    """Delete every walkthrough row of testers whose program ended 30+ days ago; returns per-table counts."""
    counts = purge_counts(today)
    if not dry_run:
        candidates = purge_candidates(today)
        WalkthroughPaperTrade.objects.filter(progress__in=candidates).delete()
        WalkthroughResponse.objects.filter(progress__in=candidates).delete()
        candidates.delete()
    return counts
