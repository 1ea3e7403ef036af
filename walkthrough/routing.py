"""Which screens a tester walks, under the flag matrix of design §3.Q1.

Two independent flags: SELF_SELECT (door screen and the simple track) and
PERSONA_ROUTING (intent question and routed scenarios in the full track).
Routing reads the stored ``intent_bucket`` only while PERSONA_ROUTING is on,
so turning it off sends everyone to the iron condor with no migration
(the kill switch, §2).

Steps are route names under /api/walkthrough/screen/. ``screen_completed_max``
counts screens 1..5; the simple-track guide stands in for screens 2 and 3, and
the intent sub-step is part of screen 1.
"""

import logging
from dataclasses import dataclass

from flags.registry import flag_is_on

from .models import WalkthroughProgress
from .scenarios import _SCENARIO_FALLBACK, _SCENARIO_REGISTRY, scenario_fixture

logger = logging.getLogger(__name__)

SELF_SELECT = "FLAG_BETA_WALKTHROUGH_SELF_SELECT"
PERSONA_ROUTING = "FLAG_WALKTHROUGH_PERSONA_ROUTING"

INTENT_STEP = "1/intent"
COMPLETES = {"1": 1, "2": 2, "3": 3, "simple/1": 3, "4": 4, "5": 5}


@dataclass(frozen=True)
class Cell:
    self_select: bool
    routing: bool

    @property
    def label(self) -> str:
        return f"ss_{'on' if self.self_select else 'off'}/pr_{'on' if self.routing else 'off'}"


CELLS = [Cell(ss, pr) for ss in (False, True) for pr in (False, True)]


def cell_for(request) -> Cell:
    """The flag cell of this request (two flag checks, memoised on the request)."""
    cached = getattr(request, "_walkthrough_cell", None)
    if cached is None:
        cached = Cell(flag_is_on(request, SELF_SELECT), flag_is_on(request, PERSONA_ROUTING))
        request._walkthrough_cell = cached
    return cached


@dataclass(frozen=True)
class Route:
    scenario: str  # income | covered_call | directional | simple
    builder: str  # ic | cc | vs | simple
    steps: tuple[str, ...]
    # Also accepted, never advertised by next_screen: a directional tester on the
    # door path may still use screens 2 and 3 (inline guide, VS builder) instead of
    # the simple guide; both reach screen 4 with the same vertical-spread gate.
    alternates: tuple[str, ...] = ()

    def allows(self, step: str) -> bool:
        return step == INTENT_STEP or step in self.steps or step in self.alternates

    def requires(self, step: str) -> int:
        """screen_completed_max needed before ``step`` may be posted."""
        if step == INTENT_STEP:
            return 1
        if step in self.alternates:
            return COMPLETES[step] - 1
        counted = [s for s in self.steps if s != INTENT_STEP]
        index = counted.index(step)
        return COMPLETES[counted[index - 1]] if index else 0


def routed_scenario(progress: WalkthroughProgress, cell: Cell, *, warn: bool = False) -> str:
    """The full-track scenario key: income unless routing is on and the intent maps elsewhere.

    ``warn`` logs the income fallback; screens 2 and 3, which serve the routed
    scenario, ask for it (status and screen 1 would repeat it on every poll).
    """
    if not cell.routing:
        return _SCENARIO_FALLBACK
    bucket = progress.intent_bucket
    if bucket not in _SCENARIO_REGISTRY:
        if warn:
            logger.warning("walkthrough progress %s has intent_bucket=%s; routing as %s",
                           progress.pk, bucket, _SCENARIO_FALLBACK)
        return _SCENARIO_FALLBACK
    if bucket != _SCENARIO_FALLBACK and scenario_fixture(bucket) is None:
        logger.warning("walkthrough scenario %s has no fixture; routing progress %s as %s",
                       bucket, progress.pk, _SCENARIO_FALLBACK)
        return _SCENARIO_FALLBACK
    return bucket


def route_for(progress: WalkthroughProgress, cell: Cell, *, warn: bool = False) -> Route:
    if cell.self_select and progress.track_selected == "simple":
        directional = cell.routing and progress.intent_bucket == "directional"
        return Route("directional" if directional else "simple", "simple", ("1", "simple/1", "4", "5"))
    if cell.self_select and progress.track_selected is None:
        return Route(_SCENARIO_FALLBACK, "ic", ("1", "2", "3", "4", "5"))  # nothing chosen yet
    scenario = routed_scenario(progress, cell, warn=warn)
    intent = (INTENT_STEP,) if cell.routing and cell.self_select else ()
    if scenario == "directional" and cell.self_select:
        return Route("directional", "simple", ("1", *intent, "simple/1", "4", "5"), alternates=("2", "3"))
    return Route(scenario, _SCENARIO_REGISTRY[scenario]["builder"], ("1", *intent, "2", "3", "4", "5"))


def next_screen(progress: WalkthroughProgress, route: Route) -> str | None:
    if progress.completed_at is not None:
        return None
    done = progress.screen_completed_max
    for step in route.steps:
        if step == INTENT_STEP:
            if progress.intent_bucket is None and done < 2:
                return f"screen/{step}"
        elif COMPLETES[step] > done:
            return f"screen/{step}"
    return None
