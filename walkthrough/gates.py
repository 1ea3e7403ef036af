"""Structure gates for paper fills (screen 3 and the simple-track guide).

``check_legs`` turns the tester's legs into clean legs_json items (design
§3.Q7) or a list of machine-readable reasons, each ``{"code": ..., ...}``.
The covered-call gate is inline here on purpose: the walkthrough never calls
a strategy-templates validator (design §3.Q3).
"""

import math
from datetime import date
from decimal import Decimal

from raxx.decimals import parse_decimal

from .scenarios import CC_MIN_DTE

ROLE_SPECS = {
    "short_call": ("call", "sell"), "long_call": ("call", "buy"),
    "short_put": ("put", "sell"), "long_put": ("put", "buy"),
    "short_call_cc": ("call", "sell"),
    "short_put_vs": ("put", "sell"), "long_put_vs": ("put", "buy"),
}
SHAPES = {  # builder -> (strategy_type, roles from the lowest strike up)
    "ic": ("iron_condor", ("long_put", "short_put", "short_call", "long_call")),
    "cc": ("covered_call", ("short_call_cc",)),
    "vs": ("vertical_spread", ("long_put_vs", "short_put_vs")),
}
LEG_FIELDS = ("role", "strike", "expiry", "option_type", "action", "premium")
REQUIRED_FIELDS = ("role", "strike", "expiry")  # option_type/action follow from the role; premium from the chain
MAX_LEGS = 8


def _number(value) -> float | None:
    number = parse_decimal(value)
    if number is None or not number.is_finite() or number.as_tuple().exponent < -4 or abs(number) >= Decimal("1e9"):
        return None
    result = float(number)
    return result if math.isfinite(result) else None


def _date(value) -> date | None:
    """YYYY-MM-DD, or an ISO-8601 timestamp on that date (``2026-06-26T00:00:00Z``): its date part."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) > 10 and value[10] in "T ":
        value = value[:10]
    if len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _word(value):
    """Enum values compare without case or surrounding blanks (``"Call"`` is ``"call"``)."""
    return value.strip().lower() if isinstance(value, str) else value


# The suggested_strikes keys of the covered-call and put-spread fixtures are the plain
# role names (``short_call``; ``short_put``/``long_put``). A tester who copies them as
# roles means the scenario's own role: read them so, and store the §3.Q7 role.
ROLE_ALIASES = {
    "cc": {"short_call": "short_call_cc"},
    "vs": {"short_put": "short_put_vs", "long_put": "long_put_vs"},
}


def _clean_leg(i: int, leg, allowed_roles: tuple[str, ...], reasons: list, aliases: dict) -> dict | None:
    if not isinstance(leg, dict):
        reasons.append({"code": "leg_not_an_object", "leg": i})
        return None
    before = len(reasons)
    for field in REQUIRED_FIELDS:
        if field not in leg or leg[field] is None:
            reasons.append({"code": "missing_field", "leg": i, "field": field})
    if len(reasons) > before:
        return None
    role = _word(leg["role"])
    role = aliases.get(role, role) if isinstance(role, str) else role
    if not isinstance(role, str) or role not in ROLE_SPECS:
        reasons.append({"code": "unknown_role", "leg": i})
        return None
    if role not in allowed_roles:
        reasons.append({"code": "role_not_in_structure", "leg": i, "role": role, "allowed": list(allowed_roles)})
        return None
    option_type, action = ROLE_SPECS[role]
    strike, expiry = _number(leg["strike"]), _date(leg["expiry"])
    premium = None if leg.get("premium") is None else _number(leg["premium"])
    if strike is None or strike <= 0:
        reasons.append({"code": "invalid_strike", "leg": i, "role": role})
    if leg.get("premium") is not None and (premium is None or premium < 0):
        reasons.append({"code": "invalid_premium", "leg": i, "role": role})
    if expiry is None:
        reasons.append({"code": "invalid_expiry", "leg": i, "role": role})
    if _word(leg.get("option_type")) not in (None, option_type):
        reasons.append({"code": "option_type_mismatch", "leg": i, "role": role, "required": option_type})
    if _word(leg.get("action")) not in (None, action):
        reasons.append({"code": "action_mismatch", "leg": i, "role": role, "required": action})
    if len(reasons) > before:
        return None
    return {"role": role, "strike": strike, "expiry": expiry.isoformat(), "option_type": option_type,
            "action": action, "premium": premium}


def check_legs(builder: str, legs: list, fixture: dict) -> tuple[str, list[dict], list[dict]]:
    """(strategy_type, clean legs in strike order, reasons). Empty reasons means the gate passed."""
    strategy_type, roles = SHAPES[builder]
    reasons: list[dict] = []
    if len(legs) != len(roles):
        reasons.append({"code": "wrong_leg_count", "required": len(roles), "got": len(legs)})
        if len(legs) > MAX_LEGS:
            return strategy_type, [], reasons
    leg_reasons: list[dict] = []
    aliases = ROLE_ALIASES.get(builder, {})
    clean = [c for i, leg in enumerate(legs) if (c := _clean_leg(i, leg, roles, leg_reasons, aliases)) is not None]
    if leg_reasons:
        return strategy_type, [], reasons + leg_reasons

    by_role = {}
    for leg in clean:
        if leg["role"] in by_role:
            reasons.append({"code": "duplicate_role", "role": leg["role"]})
        by_role[leg["role"]] = leg
    for role in roles:
        if role not in by_role:
            reasons.append({"code": "missing_role", "role": role})
    if reasons:
        return strategy_type, [], reasons

    ordered = [by_role[r] for r in roles]
    expiries = sorted({leg["expiry"] for leg in ordered})
    if len(expiries) > 1:
        reasons.append({"code": "multiple_expiries", "expiries": expiries})
    strikes = [leg["strike"] for leg in ordered]
    if any(a >= b for a, b in zip(strikes, strikes[1:])):
        reasons.append({"code": "strike_order", "required": " < ".join(roles)})

    raw = fixture["raw"]
    listed = {(float(c["strike"]), c["expiry"], c["type"]): c for c in raw["contracts"]}
    for leg in ordered:
        contract = listed.get((leg["strike"], leg["expiry"], leg["option_type"]))
        if contract is None:
            reasons.append({"code": "strike_not_in_chain", "role": leg["role"], "strike": leg["strike"],
                            "expiry": leg["expiry"], "option_type": leg["option_type"]})
        elif leg["premium"] is None:  # no premium given: the frozen chain's mid is the paper fill
            leg["premium"] = round((float(contract["bid"]) + float(contract["ask"])) / 2, 2)
    if builder == "cc":
        leg = ordered[0]
        if leg["strike"] <= float(raw["_meta"]["underlying_price"]):
            reasons.append({"code": "otm_only", "strike": leg["strike"],
                            "underlying_price": float(raw["_meta"]["underlying_price"])})
        dte = (date.fromisoformat(leg["expiry"]) - date.fromisoformat(raw["_meta"]["snapshot_date"])).days
        if dte < CC_MIN_DTE:
            reasons.append({"code": "min_dte", "dte": dte, "min_dte": CC_MIN_DTE})
    return strategy_type, ([] if reasons else ordered), reasons
