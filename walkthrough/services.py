"""Walkthrough writes. Every write goes to a ``beta_walkthrough_*`` table only.

A screen POST is one conditional statement on the tester's progress row (see
"screens" below), so two concurrent posts (a double click on screen 3) cannot
both write a paper trade or move ``screen_completed_max`` backwards; a post
whose row changed meanwhile is decided again under ``select_for_update``. The
one-to-one paper trade is the database's second line of defence.

Re-posting a screen the tester already finished is harmless: nothing but
``updated_at`` and ``flag_cell`` changes (the intent may still be given while
screen 2 is not done), and the response repeats the stored outcome.
"""

import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connections, router, transaction
from django.db.models.sql import UpdateQuery
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
#
# A screen POST decides its write from the row that authentication read, then makes it
# with one conditional statement: the UPDATE matches only while the row is still as
# read (same ``updated_at`` and the same fields the decision used). No transaction is
# opened and no lock is taken first: one statement is atomic on its own, and PostgreSQL
# re-checks the WHERE clause against the newest row version once a concurrent writer
# commits, so of two tabs (or a double click) exactly one advances the row. A post whose
# row moved in between wrote nothing; it is decided again on the locked row, as before.
# A 409 decided from the row as read is the answer the row gave at that moment.

def _as_read(progress: WalkthroughProgress):
    """The tester's row, only while it is exactly as ``progress`` read it."""
    return WalkthroughProgress.objects.filter(
        pk=progress.pk, updated_at=progress.updated_at, screen_completed_max=progress.screen_completed_max,
        track_selected=progress.track_selected, intent_bucket=progress.intent_bucket,
        completed_at=progress.completed_at)


def _locked(progress: WalkthroughProgress) -> WalkthroughProgress:
    locked = WalkthroughProgress.objects.select_for_update().get(pk=progress.pk)
    locked.program = progress.program  # already loaded by authentication
    return locked


def _require_step(progress: WalkthroughProgress, cell: Cell, step: str, *, warn: bool = True):
    route = route_for(progress, cell, warn=warn and step in ("2", "3"))
    if not route.allows(step) or progress.screen_completed_max < route.requires(step):
        # The body is exactly CONTRACTS §5's; GET /status names the screen to post next.
        raise ApplicationError(SCREEN_OUT_OF_ORDER, status_code=409)
    return route


def _advance(progress: WalkthroughProgress, cell: Cell, step: str | None) -> dict:
    """Every screen post records its flag cell; ``screen_completed_max`` never moves backwards."""
    done = progress.screen_completed_max
    if step is not None:
        done = max(done, COMPLETES[step])
    return {"screen_completed_max": done, "flag_cell": cell.label}


def _apply(progress: WalkthroughProgress, changes: dict) -> None:
    for name, value in changes.items():
        setattr(progress, name, value)


def _save(progress: WalkthroughProgress, changes: dict) -> None:
    _apply(progress, changes)
    progress.save(update_fields=[*changes, "updated_at"])


def _update_if_unchanged(progress: WalkthroughProgress, changes: dict) -> bool:
    changes = {**changes, "updated_at": timezone.now()}
    if _as_read(progress).update(**changes) != 1:
        return False
    _apply(progress, changes)
    return True


def _write(progress: WalkthroughProgress, decide) -> WalkthroughProgress:
    """Write ``decide(row, warn=...)``'s changes to the tester's row: one conditional UPDATE, or,
    when the row moved since it was read, the same decision again on the locked row."""
    if _update_if_unchanged(progress, decide(progress, warn=True)):
        return progress
    with transaction.atomic():
        locked = _locked(progress)
        _save(locked, decide(locked, warn=False))
    return locked


def _insert_if_unchanged(progress: WalkthroughProgress, changes: dict, model, values: dict, *, now) -> int | None:
    """``changes`` to the row as read and a new ``model`` row for it, in one statement (PostgreSQL's
    data-modifying WITH). The new row's id, or None: another database, a row that moved, a row of
    ``model`` already there (then the progress row may have been advanced, which is harmless)."""
    connection = connections[router.db_for_write(WalkthroughProgress)]
    if connection.vendor != "postgresql":
        return None
    changes = {**changes, "updated_at": now}
    query = _as_read(progress).query.chain(UpdateQuery)
    query.add_update_values(changes)
    update_sql, update_params = query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in values]
    casts = ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in fields)
    sql = (f"WITH advanced AS ({update_sql} RETURNING {quote('id')}) "
           f"INSERT INTO {quote(model._meta.db_table)} ({quote('progress_id')}, "
           f"{', '.join(quote(field.column) for field in fields)}) "
           f"SELECT {quote('id')}, {casts} FROM advanced "
           f"ON CONFLICT ({quote('progress_id')}) DO NOTHING RETURNING {quote('id')}")
    params = [*update_params, *(field.get_db_prep_save(v, connection) for field, v in zip(fields, values.values()))]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    _apply(progress, changes)
    return row[0]


def normalise_intent(value, *, log: bool = True) -> str:
    if isinstance(value, str) and value in INTENT_BUCKETS:
        return value
    if log:  # the value is what a tester typed: logged by type and length only (never submitted text)
        logger.warning("walkthrough intent_bucket not recognised (a %s of length %s); stored as unknown and routed "
                       "as income", type(value).__name__, len(value) if isinstance(value, str | list | dict) else "-")
    return "unknown"


def _intent_changes(progress: WalkthroughProgress, intent, *, log: bool) -> dict:
    """Set the intent while screen 2 is not done yet; later it is kept (harmless re-post)."""
    if intent is None or progress.screen_completed_max >= 2:
        return {}
    return {"intent_bucket": normalise_intent(intent, log=log)}


def screen1_submit(*, progress: WalkthroughProgress, cell: Cell, track: str | None, answers: dict | None,
                   intent: str | None) -> WalkthroughProgress:
    def decide(row, *, warn):
        changes = {}
        if row.screen_completed_max < 1:
            changes = {"track_selected": track} if cell.self_select else {"persona_answers": answers}
        if cell.routing:
            changes |= _intent_changes(row, intent, log=warn)
        return changes | _advance(row, cell, "1")

    return _write(progress, decide)


def intent_submit(*, progress: WalkthroughProgress, cell: Cell, intent: str) -> WalkthroughProgress:
    def decide(row, *, warn):
        _require_step(row, cell, INTENT_STEP)
        return _intent_changes(row, intent, log=warn) | _advance(row, cell, None)

    return _write(progress, decide)


def screen2_submit(*, progress: WalkthroughProgress, cell: Cell, answers: dict | None) -> WalkthroughProgress:
    def decide(row, *, warn):
        _require_step(row, cell, "2", warn=warn)
        changes = {"scenario_answers": answers} if row.screen_completed_max < 2 else {}
        return changes | _advance(row, cell, "2")

    return _write(progress, decide)


def screen4_submit(*, progress: WalkthroughProgress, cell: Cell) -> WalkthroughProgress:
    def decide(row, *, warn):
        _require_step(row, cell, "4")
        return _advance(row, cell, "4")

    return _write(progress, decide)


def _legs_json(legs: list[dict]) -> str:
    return json.dumps(legs, separators=(",", ":"))


def _paper_trade_values(strategy_type: str, legs: list[dict], underlying: str) -> dict:
    named = {}
    if strategy_type == "iron_condor":
        strike = {leg["role"]: Decimal(str(leg["strike"])) for leg in legs}
        named = {"short_call_strike": strike["short_call"], "long_call_strike": strike["long_call"],
                 "short_put_strike": strike["short_put"], "long_put_strike": strike["long_put"],
                 # Unequal wings are allowed; the wider wing bounds the loss, so that is the width kept.
                 "wing_width": max(strike["short_put"] - strike["long_put"], strike["long_call"] - strike["short_call"])}
    return {"strategy_type": strategy_type, "underlying": underlying, "legs_json": _legs_json(legs), **named}


def _fill_plan(progress: WalkthroughProgress, cell: Cell, step: str, *, warn: bool) -> tuple[str, dict | None]:
    """(builder, fixture) of a paper fill on ``step``, or 409 when the step is not the tester's to post."""
    route = _require_step(progress, cell, step, warn=warn)
    if step == "simple/1":
        return "vs", _load_vs_chain()
    builder = "vs" if route.builder == "simple" else route.builder  # directional via screen 3
    return builder, scenario_fixture(route.scenario)


def _fill(progress: WalkthroughProgress, cell: Cell, step: str, legs: list):
    """(progress, paper trade, created). A first fill that passes the gate is one statement on
    PostgreSQL; a re-post, a failed gate, a missing fixture or a row that moved goes the locked way."""
    builder, fixture = _fill_plan(progress, cell, step, warn=True)
    if progress.screen_completed_max < COMPLETES[step] and fixture is not None:
        strategy_type, clean, reasons = check_legs(builder, legs, fixture)
        if not reasons:
            now = timezone.now()
            values = {**_paper_trade_values(strategy_type, clean, fixture["raw"]["_meta"]["underlying"]),
                      "created_at": now}
            trade_id = _insert_if_unchanged(progress, _advance(progress, cell, step), WalkthroughPaperTrade,
                                            values, now=now)
            if trade_id is not None:
                return progress, WalkthroughPaperTrade(id=trade_id, progress=progress, **values), True
    return _fill_locked(progress, cell, step, legs)


@transaction.atomic
def _fill_locked(progress: WalkthroughProgress, cell: Cell, step: str, legs: list):
    """Gate ``legs`` and write the paper trade, the row locked; a finished step returns the stored one."""
    progress = _locked(progress)
    builder, fixture = _fill_plan(progress, cell, step, warn=False)
    existing = WalkthroughPaperTrade.objects.filter(progress=progress).first()
    if existing is not None:
        _save(progress, _advance(progress, cell, step))
        return progress, existing, False
    if fixture is None:  # the iron condor chain itself is missing: a deployment error, not bad input
        raise ApplicationError("scenario_unavailable", status_code=503)
    strategy_type, clean, reasons = check_legs(builder, legs, fixture)
    if reasons:
        raise ApplicationError(STRUCTURE_GATE_FAILED, detail=reasons, status_code=422)
    trade = WalkthroughPaperTrade.objects.create(
        progress=progress, **_paper_trade_values(strategy_type, clean, fixture["raw"]["_meta"]["underlying"]))
    _save(progress, _advance(progress, cell, step))
    return progress, trade, True


def screen3_submit(*, progress: WalkthroughProgress, cell: Cell, legs: list):
    """(progress, paper trade, created). Gate failures raise 422 and write nothing."""
    return _fill(progress, cell, "3", legs)


def simple1_submit(*, progress: WalkthroughProgress, cell: Cell, legs: list | None):
    """Acknowledge the static guide; optional legs are gated as a vertical spread and filled."""
    if legs is not None:
        return _fill(progress, cell, "simple/1", legs)

    def decide(row, *, warn):
        _require_step(row, cell, "simple/1")
        return _advance(row, cell, "simple/1")

    return _write(progress, decide), None, False


def screen5_submit(*, progress: WalkthroughProgress, cell: Cell, answers: dict) -> WalkthroughProgress:
    """The survey: the first post keeps the answers and sets ``completed_at`` (one statement on
    PostgreSQL); a re-post keeps both."""
    _require_step(progress, cell, "5")
    if progress.completed_at is None:
        now = timezone.now()
        changes = {**_advance(progress, cell, "5"), "completed_at": now}
        values = {"answers": answers, "created_at": now}
        if _insert_if_unchanged(progress, changes, WalkthroughResponse, values, now=now) is not None:
            return progress
    return _screen5_locked(progress=progress, cell=cell, answers=answers)


@transaction.atomic
def _screen5_locked(*, progress: WalkthroughProgress, cell: Cell, answers: dict) -> WalkthroughProgress:
    progress = _locked(progress)
    _require_step(progress, cell, "5")
    changes = _advance(progress, cell, "5")
    if progress.completed_at is None:
        WalkthroughResponse.objects.create(progress=progress, answers=answers)
        changes["completed_at"] = timezone.now()
    _save(progress, changes)
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
