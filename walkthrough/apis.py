"""Walkthrough routes (CONTRACTS §5). Authenticated by walkthrough token, never the customer JWT."""

import math

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from raxx.api import flag_required
from raxx.errors import ApplicationError
from raxx.openapi import body, errors
from raxx.parsers import SafeFormParser, SafeJSONParser, SafeMultiPartParser

from . import schema as shapes
from . import services
from .auth import IsTester, WalkthroughTokenAuthentication
from .routing import PERSONA_ROUTING, SELF_SELECT, cell_for, route_for
from .scenarios import (DOOR_SCREEN, INTENT_QUESTION, PERSONA_QUESTIONS, SURVEY, TAX_SCREEN, builder_payload,
                        scenario_payload, vs_guide_payload)
from .selectors import paper_trade_body, progress_status

# Shapes: walkthrough/schema.py (README: "Routes").
_schema = extend_schema(tags=["walkthrough"])
OUT_OF_ORDER = errors(409, "screen_out_of_order")
FLAG_OFF = errors(404, "not_found")
GATE = errors(422, "structure_gate_failed")


class WalkthroughApi(APIView):
    authentication_classes = [WalkthroughTokenAuthentication]
    permission_classes = [IsTester]
    # JSON is the contract; form and multipart bodies (a test client's default encoding,
    # e.g. an "empty" POST to screen 4) are read too rather than refused with 415.
    parser_classes = [SafeJSONParser, SafeFormParser, SafeMultiPartParser]

    def progress(self, request):
        return request.user.progress

    def status_body(self, request, progress, **extra) -> dict:
        return {"progress": progress_status(progress=progress, cell=cell_for(request)), **extra}


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ApplicationError("invalid_request", detail={"non_field_errors": ["A JSON object is required."]})
    return request.data


_MAX_ANSWER_NODES = 200


def _bounded_json(value, *, depth: int = 0, budget: list[int]) -> bool:
    """Small, storable JSON: at most 3 levels and 200 values, strings ≤ 2000 chars without NUL, finite numbers."""
    budget[0] -= 1
    if budget[0] < 0 or depth > 3:
        return False
    if value is None or isinstance(value, bool | int):
        return not isinstance(value, int) or isinstance(value, bool) or abs(value) < 10**15
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return len(value) <= 2000 and "\x00" not in value
    if isinstance(value, list):
        return len(value) <= 50 and all(_bounded_json(v, depth=depth + 1, budget=budget) for v in value)
    if isinstance(value, dict):
        return len(value) <= 50 and all(
            isinstance(k, str) and 0 < len(k) <= 64 and "\x00" not in k
            and _bounded_json(v, depth=depth + 1, budget=budget) for k, v in value.items())
    return False


def _answers_object(value, *, field: str = "answers", allow_list: bool = False):
    """Free-form answers, kept as given when small: an object (or, for the survey, a list).

    The questions are content (#3857) that the front end may revise ahead of the
    server, so keys and values are not checked against a list; only the size and
    the storability (no NUL, finite numbers) are.
    """
    shapes = (dict, list) if allow_list else (dict,)
    if not isinstance(value, shapes) or not _bounded_json(value, budget=[_MAX_ANSWER_NODES]):
        raise serializers.ValidationError(
            {field: ["A small JSON object of answers (at most 50 keys, 200 values in all, text up to 2000 "
                     "characters)."]})
    return value


def _validate_persona(answers) -> dict:
    """Persona answers: any small object. The listed questions and choices are what the
    front end shows; an answer outside them is kept (content may change first)."""
    return _answers_object(answers)


def _validate_legs(data: dict, *, required: bool):
    legs = data.get("legs")
    if legs is None and not required:
        return None
    if not isinstance(legs, list):
        raise serializers.ValidationError({"legs": ["A list of legs (design §3.Q7 legs_json items) is required."]})
    return legs


def _intent_question(request, progress):
    cell = cell_for(request)
    if cell.routing and progress.intent_bucket is None and (not cell.self_select or progress.track_selected == "full"):
        return INTENT_QUESTION
    return None


@_schema
class Screen1Api(WalkthroughApi):
    @extend_schema(responses={200: shapes.SCREEN1})
    def get(self, request):
        cell, progress = cell_for(request), self.progress(request)
        if cell.self_select:  # the intent question follows the choice of the full track
            body = {"screen": 1, "kind": "door", **DOOR_SCREEN, "intent_question": _intent_question(request, progress)}
        else:
            body = {"screen": 1, "kind": "persona_match", "title": "About your trading",
                    "copy": "Three short questions, so the walkthrough matches the account you use.",
                    "questions": PERSONA_QUESTIONS, "intent_question": INTENT_QUESTION if cell.routing else None}
        return Response({**body, **self.status_body(request, progress)})

    @extend_schema(request=body(shapes.SCREEN1_IN), responses={200: shapes.SCREEN1_DONE})
    def post(self, request):
        data, cell, progress = _body(request), cell_for(request), self.progress(request)
        first = progress.screen_completed_max < 1
        track = data.get("track")
        answers = data.get("answers")
        if cell.self_select and (first or track is not None) and track not in ("simple", "full"):
            raise serializers.ValidationError({"track": ['One of: "simple", "full".']})
        if not cell.self_select and (first or answers is not None):
            answers = _validate_persona(answers)
        intent = data.get("intent_bucket")  # any unrecognised value (even a non-string) is stored as unknown
        progress = services.screen1_submit(progress=progress, cell=cell, track=track, answers=answers, intent=intent)
        return Response(self.status_body(request, progress, intent_question=_intent_question(request, progress)))


@_schema
class IntentApi(WalkthroughApi):
    permission_classes = [IsTester, flag_required(PERSONA_ROUTING)]

    @extend_schema(request=body(shapes.INTENT_IN), responses={200: shapes.PROGRESS, **OUT_OF_ORDER, **FLAG_OFF})
    def post(self, request):
        data = _body(request)
        intent = data.get("intent_bucket")
        if intent is None:
            raise serializers.ValidationError({"intent_bucket": ["This field is required."]})
        progress = services.intent_submit(progress=self.progress(request), cell=cell_for(request), intent=intent)
        return Response(self.status_body(request, progress))


@_schema
class SimpleScreenApi(WalkthroughApi):
    permission_classes = [IsTester, flag_required(SELF_SELECT)]

    @extend_schema(responses={200: shapes.SIMPLE1, **FLAG_OFF})
    def get(self, request):
        progress = self.progress(request)
        route = route_for(progress, cell_for(request))
        scenario = "directional" if route.scenario == "directional" else "simple"
        return Response({"screen": "simple/1", **vs_guide_payload(scenario=scenario), **self.status_body(request, progress)})

    @extend_schema(request=body(shapes.OPTIONAL_LEGS_IN),
                   responses={200: shapes.SIMPLE_DONE, 201: shapes.TRADE_RECORDED, **OUT_OF_ORDER, **FLAG_OFF, **GATE})
    def post(self, request):
        legs = _validate_legs(_body(request), required=False)
        progress, trade, created = services.simple1_submit(progress=self.progress(request), cell=cell_for(request),
                                                           legs=legs)
        body = self.status_body(request, progress, paper_trade=paper_trade_body(trade) if trade is not None else None)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@_schema
class Screen2Api(WalkthroughApi):
    @extend_schema(responses={200: shapes.SCREEN2})
    def get(self, request):
        progress = self.progress(request)
        route = route_for(progress, cell_for(request), warn=True)
        payload = scenario_payload(route.scenario if route.scenario != "simple" else "income")
        payload["guide"] = vs_guide_payload(scenario="directional") if route.scenario == "directional" else None
        return Response({"screen": 2, **payload, **self.status_body(request, progress)})

    @extend_schema(request=body(shapes.ANSWERS_IN), responses={200: shapes.PROGRESS, **OUT_OF_ORDER})
    def post(self, request):
        answers = _body(request).get("answers")
        answers = _answers_object(answers) if answers is not None else None
        progress = services.screen2_submit(progress=self.progress(request), cell=cell_for(request), answers=answers)
        return Response(self.status_body(request, progress))


@_schema
class Screen3Api(WalkthroughApi):
    @extend_schema(responses={200: shapes.SCREEN3})
    def get(self, request):
        progress = self.progress(request)
        route = route_for(progress, cell_for(request), warn=True)
        builder = route.builder if route.builder != "simple" else "vs"
        scenario = scenario_payload(route.scenario if route.scenario != "simple" else "directional")
        return Response({"screen": 3, "scenario": route.scenario, **builder_payload(builder),
                         "chain": scenario["chain"], "suggested_strikes": scenario["suggested_strikes"],
                         **self.status_body(request, progress)})

    @extend_schema(request=body(shapes.LEGS_IN), responses={
        200: shapes.TRADE_RECORDED, 201: shapes.TRADE_RECORDED, **OUT_OF_ORDER, **GATE,
        **errors(503, "scenario_unavailable")})
    def post(self, request):
        legs = _validate_legs(_body(request), required=True)
        progress, trade, created = services.screen3_submit(progress=self.progress(request), cell=cell_for(request),
                                                           legs=legs)
        return Response(self.status_body(request, progress, paper_trade=paper_trade_body(trade)),
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@_schema
class Screen4Api(WalkthroughApi):
    @extend_schema(responses={200: shapes.SCREEN4})
    def get(self, request):
        return Response({"screen": 4, **TAX_SCREEN, **self.status_body(request, self.progress(request))})

    @extend_schema(request=body(shapes.EMPTY_IN), responses={200: shapes.PROGRESS, **OUT_OF_ORDER})
    def post(self, request):
        _body(request)
        progress = services.screen4_submit(progress=self.progress(request), cell=cell_for(request))
        return Response(self.status_body(request, progress))


_SURVEY_WRAPPERS = ("answers", "responses", "survey")


def _survey_answers(data: dict):
    """The survey answers of a POST /screen/5 body, in whichever plausible shape they come.

    ``{"answers": {...}}`` (documented), ``{"answers": [...]}``, ``{"responses": ...}``,
    ``{"survey": ...}`` or the answers flat in the body; ``{}`` is an empty survey.
    """
    for key in _SURVEY_WRAPPERS:
        if key in data and (len(data) == 1 or key == "answers"):
            return {} if data[key] is None else data[key]
    return dict(data)


def _scale_value(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value if isinstance(value, int) else None


def _validate_survey(data: dict):
    """Known questions (GET /screen/5 lists them) are checked by kind; anything else is kept as given.

    No question is enforced as required here: the front end asks for them, and a
    tester who skips one still completes the walkthrough.
    """
    answers = _answers_object(_survey_answers(data), allow_list=True)
    if not isinstance(answers, dict):
        return answers
    errors = {}
    for q in SURVEY["questions"]:
        value = answers.get(q["id"])
        if value is None:
            continue
        if q["kind"] == "scale":
            number = _scale_value(value)
            if number is None or not q["min"] <= number <= q["max"]:
                errors[q["id"]] = [f"A whole number from {q['min']} to {q['max']}."]
            else:
                answers[q["id"]] = number
        elif q["kind"] == "choice" and (not isinstance(value, str) or value.strip().lower() not in q["choices"]):
            errors[q["id"]] = [f"One of: {', '.join(q['choices'])}."]
        elif q["kind"] == "choice":
            answers[q["id"]] = value.strip().lower()
        elif q["kind"] == "text" and (not isinstance(value, str) or len(value) > q["max_length"]):
            errors[q["id"]] = [f"Text of at most {q['max_length']} characters."]
    if errors:
        raise serializers.ValidationError({"answers": errors})
    return answers


@_schema
class Screen5Api(WalkthroughApi):
    @extend_schema(responses={200: shapes.SCREEN5})
    def get(self, request):
        return Response({"screen": 5, **SURVEY, **self.status_body(request, self.progress(request))})

    @extend_schema(request=body(shapes.SURVEY_IN), responses={200: shapes.PROGRESS, **OUT_OF_ORDER})
    def post(self, request):
        progress = self.progress(request)
        data = _body(request)
        answers = _validate_survey(data) if progress.completed_at is None else None
        progress = services.screen5_submit(progress=progress, cell=cell_for(request), answers=answers)
        return Response(self.status_body(request, progress))


@_schema
class StatusApi(WalkthroughApi):
    @extend_schema(responses={200: shapes.STATUS})
    def get(self, request):
        return Response(progress_status(progress=self.progress(request), cell=cell_for(request)))
