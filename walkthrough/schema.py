"""OpenAPI: the walkthrough token as its own bearer scheme (imported in AppConfig.ready), and the
request and response shapes of the walkthrough routes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from raxx.openapi import (BOOLEAN, DATE, DATE_TIME, DECIMAL, INTEGER, NUMBER, STRING, array, component, enum,
                          nullable, obj, text)

from .gates import ROLE_SPECS


class WalkthroughTokenScheme(OpenApiAuthenticationExtension):
    target_class = "walkthrough.auth.WalkthroughTokenAuthentication"
    name = "walkthroughToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A walkthrough invite token (manage.py walkthrough_invite), not a customer JWT."}


# --- Request and response shapes of the routes (CONTRACTS §5; walkthrough/README.md) ---------
INTENT = enum("income", "covered_call", "directional")
SCENARIO = enum("income", "covered_call", "directional", "simple")
BUILDER = enum("ic", "cc", "vs", "simple")
STRATEGY = enum("iron_condor", "covered_call", "vertical_spread")
OPTION_TYPE = enum("call", "put")
ACTION = enum("buy", "sell")
ROLE = enum(*ROLE_SPECS)

STATUS = component("WalkthroughStatus", obj({
    "track_selected": nullable(enum("simple", "full")),
    "intent_bucket": nullable(enum("income", "covered_call", "directional", "unknown")),
    "screen_completed_max": {"type": "integer", "minimum": 0, "maximum": 5},
    "completed_at": nullable(DATE_TIME),
    "scenario": SCENARIO, "builder": BUILDER,
    "next_screen": nullable({"type": "string", "pattern": "^screen/", "description": "The next route, e.g. screen/2."}),
    "flag_cell": {"type": "string", "pattern": "^ss_(on|off)/pr_(on|off)$"},
    "program": obj({"name": STRING, "ends_on": DATE}),
    "updated_at": DATE_TIME,
}))
PROGRESS = obj({"progress": STATUS})

CHAIN = component("FrozenChain", obj({
    "underlying": STRING, "underlying_price": DECIMAL, "snapshot_date": DATE, "note": STRING,
    "contracts": array(obj({"strike": DECIMAL, "expiry": DATE, "expiry_type": STRING, "dte": INTEGER,
                            "type": OPTION_TYPE, "bid": DECIMAL, "ask": DECIMAL, "last": DECIMAL,
                            "open_interest": INTEGER, "iv": NUMBER})),
}, description="A frozen end-of-day option chain; prices as decimal strings."))
SUGGESTED = nullable({"type": "object", "description": "Strikes by role (decimal strings), expiry and dte.",
                      "additionalProperties": {"anyOf": [DECIMAL, DATE, INTEGER]}})
STRUCTURE = obj({"legs": array(obj({"role": ROLE, "option_type": OPTION_TYPE, "action": ACTION, "explain": STRING}))})
FIELDS = array(obj({"field": STRING, "explain": STRING}))
INTENT_QUESTION = nullable(component("IntentQuestion", obj({
    "question": STRING, "field": enum("intent_bucket"),
    "choices": array(obj({"intent_bucket": INTENT, "label": STRING, "description": STRING})),
})))
STORED_LEG = obj({"role": ROLE, "strike": NUMBER, "expiry": DATE, "option_type": OPTION_TYPE, "action": ACTION,
                  "premium": NUMBER}, description="A design §3.Q7 legs_json item, as stored.")
PAPER_TRADE = component("WalkthroughPaperTrade", obj({
    "id": INTEGER, "strategy_type": STRATEGY, "legs": array(STORED_LEG), "underlying": STRING,
    "created_at": DATE_TIME}))
GUIDE = {"scenario": enum("directional", "simple"), "title": STRING, "copy": STRING, "structure": STRUCTURE,
         "fields": FIELDS, "gates": array(STRING), "gate_note": STRING, "chain": nullable(CHAIN),
         "suggested_strikes": SUGGESTED}

SCREEN1 = {"oneOf": [
    obj({"screen": {"const": 1}, "kind": enum("door"), "title": STRING, "copy": STRING,
         "choices": array(obj({"track": enum("simple", "full"), "label": STRING, "description": STRING})),
         "intent_question": INTENT_QUESTION, "progress": STATUS}),
    obj({"screen": {"const": 1}, "kind": enum("persona_match"), "title": STRING, "copy": STRING,
         "questions": array(obj({"id": STRING, "question": STRING, "choices": array(STRING)})),
         "intent_question": INTENT_QUESTION, "progress": STATUS}),
], "description": "The door (FLAG_BETA_WALKTHROUGH_SELF_SELECT on) or the persona-match questions."}
SCREEN1_DONE = obj({"progress": STATUS, "intent_question": INTENT_QUESTION})
SIMPLE1 = obj({"screen": {"const": "simple/1"}, **GUIDE, "progress": STATUS})
SCREEN2 = obj({"screen": {"const": 2}, "scenario": INTENT, "title": STRING, "copy": STRING, "chain": nullable(CHAIN),
               "suggested_strikes": SUGGESTED, "builder": BUILDER, "guide": nullable(obj(GUIDE)), "progress": STATUS})
SCREEN3 = obj({"screen": {"const": 3}, "scenario": SCENARIO, "builder": BUILDER, "title": STRING, "copy": STRING,
               "structure": STRUCTURE, "fields": FIELDS, "gates": array(STRING),
               "rules": obj({"otm_only": BOOLEAN, "min_dte": INTEGER}, optional=("otm_only", "min_dte")),
               "chain": nullable(CHAIN), "suggested_strikes": SUGGESTED, "progress": STATUS})
SCREEN4 = obj({"screen": {"const": 4}, "title": STRING, "copy": STRING, "progress": STATUS})
SCREEN5 = obj({"screen": {"const": 5}, "title": STRING, "copy": STRING, "progress": STATUS,
               "questions": array(obj({"id": STRING, "question": STRING, "kind": enum("scale", "choice", "text"),
                                       "min": INTEGER, "max": INTEGER, "choices": array(STRING),
                                       "max_length": INTEGER, "required": BOOLEAN},
                                      optional=("min", "max", "choices", "max_length")))})
TRADE_RECORDED = obj({"progress": STATUS, "paper_trade": PAPER_TRADE})
SIMPLE_DONE = obj({"progress": STATUS, "paper_trade": nullable(PAPER_TRADE)})

# Requests: as strict as the server (a schema-valid body passes every check the schema can say).
_SCALAR_ANSWER = {"anyOf": [text(2000), {"type": "number", "minimum": -(10**15) + 1, "maximum": 10**15 - 1},
                            BOOLEAN, {"type": "null"}]}
ANSWERS = {"type": "object", "maxProperties": 50, "additionalProperties": _SCALAR_ANSWER,
           "propertyNames": text(64, min_length=1),
           "description": "Free-form answers: at most 50 keys (1-64 characters), values up to 2000 characters."}
LEG_IN = obj({
    "role": ROLE,
    "strike": {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 10**6},
                         {"type": "string", "pattern": r"^[0-9]{1,6}(\.[0-9]{1,2})?$"}]},
    "expiry": DATE, "option_type": OPTION_TYPE, "action": ACTION,
    "premium": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 10**6},
                          {"type": "string", "pattern": r"^[0-9]{1,6}(\.[0-9]{1,2})?$"}]},
}, optional=("option_type", "action", "premium"),
    description="Design §3.Q7. option_type and action follow from the role when left out; premium defaults to "
                "the chain's mid. The structure gate (422 structure_gate_failed) checks the strikes against the chain.")
SCREEN1_IN = obj({"track": enum("simple", "full"), "answers": ANSWERS, "intent_bucket": INTENT},
                 optional=("answers", "intent_bucket"),
                 description="The door's choice. While FLAG_BETA_WALKTHROUGH_SELF_SELECT is off, track is ignored "
                             "and answers (persona-match) is required on the first post.")
INTENT_IN = obj({"intent_bucket": INTENT})
ANSWERS_IN = obj({"answers": ANSWERS}, optional=("answers",))
LEGS_IN = obj({"legs": array(LEG_IN, minItems=1, maxItems=4)})
OPTIONAL_LEGS_IN = obj({"legs": array(LEG_IN, minItems=2, maxItems=2)}, optional=("legs",))
EMPTY_IN = obj({}, description="Nothing to send: {}.")
SURVEY_IN = obj({"answers": obj({
    "structure_clear": {"type": "integer", "minimum": 1, "maximum": 5},
    "fields_clear": {"type": "integer", "minimum": 1, "maximum": 5},
    "matched_account": enum("yes", "partly", "no"),
    "comment": text(2000),
}, optional=("comment",))})
