"""Scenario registry (design §4), frozen fixtures (§3.Q5) and screen copy.

Copy is placeholder content owed by the content card (#3857); it follows the
copy rules: structural and retrospective, no broker or execution-venue names,
no labels for how a tester feels, no forward-looking phrasing.
``tests/test_copy_rules.py`` scans every string served, fixtures included.
"""

import json
import logging
from functools import lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
IC_FIXTURE = "spx-frozen-2026-06-11-sample.json"
CC_FIXTURE = "aapl-cc-frozen-2026-06-11-sample.json"
VS_FIXTURE = "spy-vs-frozen-2026-06-11-sample.json"

CC_MIN_DTE = 7  # covered-call gate: no expiry closer than this many days to the snapshot


def _money(value) -> str:
    return f"{float(value):.2f}"


def _served_chain(data: dict) -> dict:
    """A fixture as served: prices as decimal strings (CONTRACTS §0)."""
    meta = data["_meta"]
    return {
        "underlying": meta["underlying"],
        "underlying_price": _money(meta["underlying_price"]),
        "snapshot_date": meta["snapshot_date"],
        "note": meta["note"],
        "contracts": [
            {"strike": _money(c["strike"]), "expiry": c["expiry"], "expiry_type": c["expiry_type"], "dte": c["dte"],
             "type": c["type"], "bid": _money(c["bid"]), "ask": _money(c["ask"]), "last": _money(c["last"]),
             "open_interest": c["open_interest"], "iv": c["iv"]}
            for c in data["contracts"]
        ],
    }


@lru_cache(maxsize=8)
def _read_fixture(name: str) -> dict | None:
    path = FIXTURES_DIR / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("walkthrough fixture %s is missing or unreadable; falling back to the iron condor scenario", name)
        return None
    return {"raw": data, "served": _served_chain(data)}


def _load_frozen_chain() -> dict | None:
    return _read_fixture(IC_FIXTURE)


def _load_cc_frozen_chain() -> dict | None:
    return _read_fixture(CC_FIXTURE)


def _load_vs_chain() -> dict | None:
    return _read_fixture(VS_FIXTURE)


def clear_fixture_cache() -> None:
    _read_fixture.cache_clear()


def _suggested(loader) -> dict | None:
    fixture = loader()
    if fixture is None:
        return None
    return {k: (_money(v) if isinstance(v, float) else v) for k, v in fixture["raw"]["suggested_strikes"].items()}


_SCENARIO_REGISTRY = {
    "income": {
        "fixture_loader": _load_frozen_chain,
        "screen2_title": "Income scenario: an iron condor on a frozen index chain",
        "scenario_copy": (
            "This scenario uses a frozen end-of-day index option chain from 2026-06-11. An iron condor combines a "
            "short put spread below the underlying price and a short call spread above it, all on one expiry. "
            "The premium collected and the distance between strikes define the maximum gain and the maximum loss "
            "of the structure at expiry."),
        "builder": "ic",
        "strategy_type": "iron_condor",
    },
    "covered_call": {
        "fixture_loader": _load_cc_frozen_chain,
        "screen2_title": "Covered call scenario: a frozen single-equity chain",
        "scenario_copy": (
            "This scenario uses a frozen end-of-day single-equity option chain from 2026-06-11. A covered call pairs "
            "100 shares held with one short call at a strike above the share price. The premium collected lowers "
            "the cost basis of the shares, and the strike caps the gain on the shares at expiry."),
        "builder": "cc",
        "strategy_type": "covered_call",
    },
    "directional": {
        # The design has no chain file for this path; we ship the guide's small put
        # chain as a fixture too, so its strikes can be checked like the others.
        "fixture_loader": _load_vs_chain,
        "screen2_title": "Directional scenario: a vertical put spread",
        "scenario_copy": (
            "This guide uses a frozen end-of-day put chain from 2026-06-11. A vertical put spread sells one put and "
            "buys a second put at a lower strike on the same expiry. The distance between the two strikes, less "
            "the net premium, sets the maximum loss of the structure at expiry."),
        "builder": "vs",
        "strategy_type": "vertical_spread",
    },
}
_SCENARIO_FALLBACK = "income"

SIMPLE_GUIDE = {
    "title": "Simple track: a put spread, field by field",
    "copy": (
        "A put spread is two puts on one expiry: one sold at a higher strike and one bought at a lower strike. "
        "Each field below is explained in turn, using a frozen end-of-day chain from 2026-06-11."),
}

INTENT_QUESTION = {
    "question": "Which of these describes what you are doing with this account?",
    "field": "intent_bucket",
    "choices": [
        {"intent_bucket": "income", "label": "Collecting option premium",
         "description": "Structures that sell options on both sides of the underlying price, such as an iron condor."},
        {"intent_bucket": "covered_call", "label": "Writing calls on shares held",
         "description": "One short call against 100 shares, with a strike above the share price."},
        {"intent_bucket": "directional", "label": "Taking a defined-risk directional position",
         "description": "Two options on one expiry whose strikes set the maximum gain and the maximum loss."},
    ],
}

DOOR_SCREEN = {
    "title": "Choose a track",
    "copy": "Both tracks use frozen sample data from a past session. Nothing here reaches a market.",
    "choices": [
        {"track": "simple", "label": "Simple track",
         "description": "One guided example of a put spread, explained field by field."},
        {"track": "full", "label": "Full track",
         "description": "A scenario on a frozen option chain, a structure builder and a paper fill."},
    ],
}

PERSONA_QUESTIONS = [
    {"id": "experience", "question": "How many years have you traded listed options?",
     "choices": ["none", "under_1", "1_to_3", "over_3"]},
    {"id": "account_type", "question": "Which account type do you use for options?",
     "choices": ["taxable", "retirement", "both", "none"]},
    {"id": "structures_used", "question": "Which structures have you placed before?",
     "choices": ["single_options", "spreads", "iron_condors", "covered_calls", "none"]},
]

BUILDER_COPY = {
    "ic": {
        "title": "Build the iron condor",
        "copy": "Pick four strikes on one expiry from the frozen chain. The structure gate checks the shape before "
                "a paper fill is recorded.",
        "legs": [
            {"role": "long_put", "option_type": "put", "action": "buy", "explain": "Lowest strike: caps the loss below."},
            {"role": "short_put", "option_type": "put", "action": "sell", "explain": "Above the long put: collects premium."},
            {"role": "short_call", "option_type": "call", "action": "sell", "explain": "Above the short put: collects premium."},
            {"role": "long_call", "option_type": "call", "action": "buy", "explain": "Highest strike: caps the loss above."},
        ],
        "gates": ["four_legs_one_each_role", "one_expiry", "long_put < short_put < short_call < long_call",
                  "strikes_exist_in_chain"],
    },
    "cc": {
        "title": "Covered call: the static guide",
        "copy": "One short call against 100 shares held. The strike sits above the share price in the frozen chain "
                "and the expiry is at least the minimum number of days from the snapshot date.",
        "legs": [
            {"role": "short_call_cc", "option_type": "call", "action": "sell",
             "explain": "The call sold against the shares: its strike is the price at which the shares are called away."},
        ],
        "gates": ["one_leg_short_call_cc", "otm_only", "min_dte", "strikes_exist_in_chain"],
    },
    "vs": {
        "title": "Vertical put spread: the static guide",
        "copy": "Two puts on one expiry: the sold put has the higher strike and the bought put the lower strike.",
        "legs": [
            {"role": "short_put_vs", "option_type": "put", "action": "sell", "explain": "Higher strike: collects premium."},
            {"role": "long_put_vs", "option_type": "put", "action": "buy", "explain": "Lower strike: caps the loss."},
        ],
        "gates": ["two_legs_one_each_role", "one_expiry", "short_put_vs above long_put_vs", "strikes_exist_in_chain"],
    },
}

LEG_FIELDS = [
    {"field": "role", "explain": "Which part of the structure this leg is."},
    {"field": "strike", "explain": "The strike price, taken from the frozen chain."},
    {"field": "expiry", "explain": "The expiry date of the contract, YYYY-MM-DD."},
    {"field": "option_type", "explain": "call or put."},
    {"field": "action", "explain": "sell or buy."},
    {"field": "premium", "explain": "The premium per share recorded for this paper fill."},
]

TAX_SCREEN = {
    "title": "Tax context",
    "copy": (
        "Premium from a closed option position is a realized gain or loss in the year the position closed. "
        "Short option premium is not taxed when it is received; it counts when the position is closed, expires "
        "or is assigned. Assignment on a covered call adds the strike price to the proceeds of the shares sold. "
        "Rules differ by account type and jurisdiction: this screen is general context, not tax advice."),
}

SURVEY = {
    "title": "A short survey",
    "copy": "Four questions about the walkthrough you just finished. Answers are kept with this beta program only.",
    "questions": [
        {"id": "structure_clear", "question": "How clear was the structure of the scenario?",
         "kind": "scale", "min": 1, "max": 5, "required": True},
        {"id": "fields_clear", "question": "How clear were the field explanations in the builder?",
         "kind": "scale", "min": 1, "max": 5, "required": True},
        {"id": "matched_account", "question": "Did the scenario match what you do with your account?",
         "kind": "choice", "choices": ["yes", "partly", "no"], "required": True},
        {"id": "comment", "question": "Anything else about the walkthrough?",
         "kind": "text", "max_length": 2000, "required": False},
    ],
}


def scenario_entry(key: str) -> dict:
    return _SCENARIO_REGISTRY[key]


def scenario_fixture(key: str) -> dict | None:
    """The loaded fixture of a scenario, or None when its file is missing (loader guard)."""
    loader = _SCENARIO_REGISTRY[key]["fixture_loader"]
    return loader() if loader is not None else None


def scenario_payload(key: str) -> dict:
    entry = _SCENARIO_REGISTRY[key]
    fixture = scenario_fixture(key)
    return {"scenario": key, "title": entry["screen2_title"], "copy": entry["scenario_copy"],
            "chain": fixture["served"] if fixture else None, "suggested_strikes": _suggested(entry["fixture_loader"]),
            "builder": entry["builder"]}


def builder_payload(builder: str) -> dict:
    copy = BUILDER_COPY[builder]
    return {"builder": builder, "title": copy["title"], "copy": copy["copy"],
            "structure": {"legs": copy["legs"]}, "fields": LEG_FIELDS, "gates": copy["gates"],
            "rules": {"otm_only": True, "min_dte": CC_MIN_DTE} if builder == "cc" else {}}


def vs_guide_payload(*, scenario: str) -> dict:
    """The static vertical-spread guide: directional payload or the generic simple-track one."""
    entry = _SCENARIO_REGISTRY["directional"]
    fixture = _load_vs_chain()
    title, copy = ((entry["screen2_title"], entry["scenario_copy"]) if scenario == "directional"
                   else (SIMPLE_GUIDE["title"], SIMPLE_GUIDE["copy"]))
    builder = builder_payload("vs")
    return {"scenario": scenario, "title": title, "copy": copy,
            "structure": builder["structure"], "fields": builder["fields"], "gates": builder["gates"],
            "gate_note": "A paper fill is optional here; when legs are sent, the structure gate checks them first.",
            "chain": fixture["served"] if fixture else None, "suggested_strikes": _suggested(_load_vs_chain)}
