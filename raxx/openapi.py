"""The API contract's building blocks (CONTRACTS §11): response shapes and one error vocabulary.

Views build plain dicts (fast, see PERFORMANCE.md); their shapes are declared here as
JSON Schema (OpenAPI 3.1) and passed to ``extend_schema``. The test suite validates every
response a test receives against the declared shape (``raxx/tests/openapi_check.py``), so
the two cannot drift apart.

Typing a route::

    @extend_schema(request=InputSerializer,
                   responses={201: ORDER_CREATED, **errors(404, "not_found", 409, "order_closed")})

``errors`` gives the route's own refusals; the refusals every route shares (400
``invalid_request``, 401, 413/415 on bodies, 429 ``rate_limited``) are added to every
operation by ``add_common_responses`` (a drf-spectacular post-processing hook).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse

COMPONENTS: dict[str, dict] = {}


def component(name: str, schema: dict) -> dict:
    """Register a named schema (``#/components/schemas/<name>``) and return its reference."""
    COMPONENTS[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


# --- Types ------------------------------------------------------------------
# Output decimals as the API writes them: "12.50", "-3", "0.000001" (never floats).
DECIMAL = {"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
CENTS = {"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+\.[0-9]{2}$"}
DATE_TIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
UUID = {"type": "string", "format": "uuid"}
STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
ANY_OBJECT = {"type": "object"}
# Text a client sends: PostgreSQL cannot store NUL, so the server refuses it (400).
NO_NUL = r"^[^\u0000]*$"


def text(max_length: int | None = None, *, min_length: int | None = None, pattern: str = NO_NUL) -> dict:
    schema = {"type": "string", "pattern": pattern}
    if max_length is not None:
        schema["maxLength"] = max_length
    if min_length is not None:
        schema["minLength"] = min_length
    return schema


def enum(*values) -> dict:
    return {"type": "string", "enum": list(values)}


def nullable(schema: dict) -> dict:
    """The same schema, or JSON null."""
    if "enum" in schema:
        return {**schema, "type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    if "type" in schema and isinstance(schema["type"], str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: dict, **bounds) -> dict:
    return {"type": "array", "items": items, **bounds}


def obj(properties: dict, *, optional: tuple = (), extra: bool = False, description: str | None = None) -> dict:
    """An object with exactly these keys (all required but ``optional``); ``extra`` allows others."""
    schema = {"type": "object", "properties": properties,
              "required": [key for key in properties if key not in optional]}
    if not extra:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def decimal_input(whole: int, places: int, *, positive: bool = False, signed: bool = False,
                  nonzero: bool = False) -> dict:
    """A decimal string as the server accepts it: at most ``whole`` integer digits and
    ``places`` decimals, no leading zeros; ``positive`` (> 0), ``signed`` (a leading "-"
    allowed) and ``nonzero`` as the field requires. No lookarounds (generators read it)."""
    int_part = "[1-9][0-9]{0,%d}" % (whole - 1)
    frac = r"(\.[0-9]{1,%d})?" % places
    # Values below 1 with a non-zero digit: 0.0…0d… (k zeros, then a non-zero digit).
    small = "|".join(r"0\.%s[1-9][0-9]{0,%d}" % ("0" * k, places - k - 1) for k in range(places))
    magnitude = f"{int_part}{frac}|{small}"
    if not (positive or nonzero):
        magnitude += r"|0(\.0{1,%d})?" % places
    sign = "-?" if signed else ""
    return {"type": "string", "format": "decimal", "pattern": f"^{sign}({magnitude})$",
            "description": f"Decimal string: up to {whole} integer digits and {places} decimals"
                           + (", greater than zero" if positive else ", not zero" if nonzero else "") + "."}


def body(schema: dict) -> dict:
    """A raw request schema for ``extend_schema(request=...)`` (JSON only)."""
    return {"application/json": schema}


# --- Errors -----------------------------------------------------------------
ERROR = component("Error", obj(
    {"error": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "description": "A snake_case code clients rely on."},
     "detail": {"description": "Optional: a message, {field: [messages]} for invalid_request, or a list of reasons.",
                "anyOf": [{"type": "string"}, {"type": "object"}, {"type": "array"}]}},
    optional=("detail",),
    description="Every error of the API: {\"error\": code, \"detail\"?: ...} (CONTRACTS §0)."))

STATUS_TEXT = {400: "Invalid request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
               405: "Method not allowed", 409: "Conflict", 413: "Request body too large",
               415: "Unsupported media type", 422: "Unprocessable request", 429: "Rate limited",
               503: "Service unavailable"}


def error_schema(codes) -> dict:
    """The Error component with ``error`` limited to these codes."""
    return {"allOf": [ERROR, {"type": "object", "properties": {"error": {"type": "string", "enum": sorted(set(codes))}}}]}


def error_codes(schema: dict) -> list[str] | None:
    """The codes of a schema built by ``error_schema``, else None."""
    try:
        if schema["allOf"][0] == ERROR:
            return list(schema["allOf"][1]["properties"]["error"]["enum"])
    except (KeyError, IndexError, TypeError):
        pass
    return None


def errors(*spec) -> dict:
    """``errors(404, "not_found", 409, "order_closed", "label_exists")`` → ``extend_schema`` responses:
    each status with its error codes as an enum, all built on the one Error component."""
    codes: dict[int, list[str]] = {}
    status = None
    for item in spec:
        if isinstance(item, int):
            status = item
            codes.setdefault(status, [])
        elif status is None:
            raise ValueError("errors(): a status code comes before its error codes")
        else:
            codes[status].extend([item] if isinstance(item, str) else item)
    if any(not values for values in codes.values()):
        raise ValueError("errors(): every status needs at least one error code")
    return {status: OpenApiResponse(error_schema(values), description=STATUS_TEXT.get(status, "Error"))
            for status, values in codes.items()}


# What every operation can answer, whatever the route (CONTRACTS §0, §1, §10).
CUSTOMER_AUTH_CODES = ["not_authenticated", "invalid_token"]
WALKTHROUGH_AUTH_CODES = ["invalid_token"]
RATE_LIMITED = "rate_limited"
BODY_CODES = {413: ["request_too_large"], 415: ["unsupported_media_type"]}

# CONTRACTS §10: the create routes that take an Idempotency-Key.
IDEMPOTENT_OPERATIONS = {("/api/paper-orders", "post"), ("/api/paper-orders/{id}/close", "post"),
                         ("/api/trading/close-position", "post"), ("/api/sentiment-labels", "post")}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "1-255 visible ASCII characters. The same customer, key and body within 24 h replays the "
                   "first response (header Idempotent-Replayed: true) and writes nothing.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x21-\x7e]+$"},
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "required": True,
                               "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
REPLAYED = {"Idempotent-Replayed": {"description": "\"true\" when this is the replay of an earlier response.",
                                    "required": False, "schema": {"type": "string", "enum": ["true"]}}}


def _add_error(responses: dict, status: int, codes: list[str]) -> None:
    key = str(status)
    existing = responses.get(key)
    if existing is None:
        responses[key] = {"description": STATUS_TEXT.get(status, "Error"),
                          "content": {"application/json": {"schema": error_schema(codes)}}}
        return
    schema = existing.get("content", {}).get("application/json", {}).get("schema", {})
    known = error_codes(schema)
    if known is None:
        raise ValueError(f"response {status} is not an error_schema(): declare it with errors()")
    existing["content"]["application/json"]["schema"] = error_schema(known + codes)


def _json_only(operation: dict) -> None:
    """JSON is the contract (CONTRACTS §0): form encodings are not published."""
    body = operation.get("requestBody")
    if body:
        body["content"] = {k: v for k, v in body["content"].items() if k == "application/json"}
        body["required"] = True  # every POST/PATCH reads a JSON object: no body is a 400


def add_common_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: the refusals every operation shares, the
    Idempotency-Key of §10, JSON-only bodies, the registered components and ``/healthz``."""
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            _json_only(operation)
            responses = operation["responses"]
            schemes = {name for requirement in operation.get("security", []) for name in requirement}
            if "QueueJWT" in schemes:
                _add_error(responses, 401, CUSTOMER_AUTH_CODES)
            if "walkthroughToken" in schemes:
                _add_error(responses, 401, WALKTHROUGH_AUTH_CODES)
            _add_error(responses, 400, ["invalid_request"])
            _add_error(responses, 429, [RATE_LIMITED])
            responses["429"]["headers"] = RETRY_AFTER
            if path.startswith("/api/"):  # CONTRACTS §10 hardening: the database went away mid-request
                _add_error(responses, 503, ["database_unavailable"])  # (with Retry-After; not every 503 has one)
            if operation.get("requestBody"):
                for status, codes in BODY_CODES.items():
                    _add_error(responses, status, codes)
            if (path, method) in IDEMPOTENT_OPERATIONS:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
                _add_error(responses, 409, ["idempotency_key_in_use"])
                _add_error(responses, 422, ["idempotency_key_reused"])
                for status, response in responses.items():
                    if status.startswith("2"):
                        response["headers"] = REPLAYED
            operation["responses"] = dict(sorted(responses.items()))
    for (path, method, status), links in LINKS.items():
        response = result["paths"].get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is not None:
            response["links"] = links
    result["paths"]["/healthz"] = HEALTHZ_PATH
    result["paths"] = dict(sorted(result["paths"].items()))
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(COMPONENTS)
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result


# --- /healthz (a plain Django view, outside DRF) ------------------------------
HEALTH = component("Health", obj({
    "status": enum("ok", "error"),
    "database": BOOLEAN, "cache": BOOLEAN, "broker": BOOLEAN,
    "jobs": {"type": "object", "description": "CONTRACTS §11: every scheduled job by name.",
             "additionalProperties": obj({"last_success": nullable(DATE_TIME), "stale": BOOLEAN, "paused": BOOLEAN})},
}))
HEALTHZ_PATH = {"get": {
    "operationId": "healthz", "tags": ["health"], "security": [],
    "description": "200 while the database answers (cache and broker reported, not required); 503 without it.",
    "responses": {
        "200": {"description": "Healthy", "content": {"application/json": {"schema": HEALTH}}},
        "503": {"description": "The database does not answer", "content": {"application/json": {"schema": HEALTH}}},
    }}}

# --- OpenAPI links: what a client (and schemathesis' stateful phase) does next ---
def _link(operation_id: str, description: str, **parameters) -> dict:
    link = {"operationId": operation_id, "description": description}
    body = parameters.pop("requestBody", None)
    if parameters:
        link["parameters"] = parameters
    if body is not None:
        link["requestBody"] = body
    return link


LINKS = {
    ("/api/paper-orders", "post", "201"): {
        "GetOrder": _link("paper_orders_retrieve", "The order just created.", id="$response.body#/order/id"),
        "CloseOrder": _link("paper_orders_close_create", "Close the order just created.",
                            id="$response.body#/order/id"),
        "GetLabel": _link("sentiment_labels_retrieve", "The label recorded with the order.",
                          id="$response.body#/sentiment_label/id"),
    },
    ("/api/paper-orders/{id}/close", "post", "200"): {
        "GetPosition": _link("positions_what_could_have_been_retrieve", "What Could've Been for the closed order.",
                             position_id="$response.body#/order/position_id"),
    },
    ("/api/sentiment-labels", "post", "201"): {
        "GetLabel": _link("sentiment_labels_retrieve", "The label just created.", id="$response.body#/id"),
        "PatchLabel": _link("sentiment_labels_partial_update", "Add a note or a post-label.", id="$response.body#/id"),
    },
    ("/api/trading/close-position", "post", "201"): {
        "GetWhatCouldHaveBeen": _link("positions_what_could_have_been_retrieve", "The render of this position.",
                                      position_id="$response.body#/position_id"),
    },
}
