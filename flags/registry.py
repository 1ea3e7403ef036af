"""Every feature flag this project knows, declared once in code.

A flag exists in three places that must agree: here (what it is for, who
owns it, how risky it is), in a data migration of this app (the waffle row,
OFF), and at its call sites (``flag_is_on(request, NAME)``). The system check
in ``flags.checks`` fails when they disagree.
"""

import logging
from dataclasses import dataclass
from enum import StrEnum

logger = logging.getLogger(__name__)


class Kind(StrEnum):
    RELEASE = "release"  # gates a feature while it rolls out
    KILL_SWITCH = "kill_switch"  # stays after GA so the feature can be turned off


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class FlagSpec:
    name: str
    purpose: str
    risk: Risk
    owner: str
    kind: Kind
    default: bool = False


FLAGS: dict[str, FlagSpec] = {
    spec.name: spec
    for spec in [
        FlagSpec("FLAG_SENTIMENT_JOURNAL", "All journal sentiment-label routes and the pre-label on paper orders.",
                 Risk.HIGH, "journal", Kind.RELEASE),
        FlagSpec("FLAG_WCB_ENABLED", "The What Could've Been render route; snapshot rows are written regardless.",
                 Risk.MEDIUM, "wcb", Kind.KILL_SWITCH),
        FlagSpec("FLAG_BETA_WALKTHROUGH_SELF_SELECT", "The walkthrough door screen (simple or full track).",
                 Risk.LOW, "walkthrough", Kind.RELEASE),
        FlagSpec("FLAG_WALKTHROUGH_PERSONA_ROUTING", "Intent-bucket routing within the full walkthrough track.",
                 Risk.LOW, "walkthrough", Kind.KILL_SWITCH),
        FlagSpec("FLAG_STRATEGY_TEMPLATES_V2", "Strategy templates v2; gates nothing in this project yet.",
                 Risk.MEDIUM, "trading", Kind.RELEASE),
    ]
}


def flag_is_on(request, name: str) -> bool:
    """Is ``name`` on for this request? Off when in any doubt (fail closed).

    Evaluated by waffle once per request and flag; every registered flag's cache entries
    come from one read per request (``flags.cache.read_batch``, or the request's prefetch in
    raxx/request_cache.py), never from an earlier request.
    """
    import waffle

    from .cache import read_batch, using

    if name not in FLAGS:
        raise KeyError(f"{name} is not in the flag registry (flags/registry.py)")
    http_request = getattr(request, "_request", request)  # DRF wraps Django's request
    state = http_request.__dict__
    seen = state.setdefault("_raxx_flags", {})
    if name in seen:
        return seen[name]
    try:
        if "_raxx_flag_batch" not in state:
            state["_raxx_flag_batch"] = read_batch()
        with using(state["_raxx_flag_batch"]):
            seen[name] = bool(waffle.flag_is_active(http_request, name))
    except Exception:  # a flag store we cannot read means the feature is off
        logger.exception("flag check failed for %s; treating it as off", name)
        return False
    return seen[name]
