"""The OpenAPI schema is the API's contract (CONTRACTS §11): complete, committed, enforced."""

import json
from pathlib import Path

import pytest

from journal import apis as journal_apis
from raxx.openapi import error_codes, errors
from raxx.tests.openapi_check import ContractViolation, contract, generated_schema

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "post", "put", "patch", "delete")


def operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _typed(schema: dict, components: dict) -> bool:
    """A declared body: a reference, a combination, or an object that names its properties."""
    if "$ref" in schema:
        return _typed(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if {"oneOf", "anyOf", "allOf"} & schema.keys():
        return True
    return schema.get("type") != "object" or bool(schema.get("properties") or schema.get("additionalProperties"))


def test_the_committed_openapi_json_is_the_generated_schema():
    committed = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    assert committed == generated_schema(), "openapi.json is stale: run `make schema` and commit the diff"


def test_the_schema_is_versioned():
    info = generated_schema()["info"]
    assert info["version"] and info["version"] != "0.0.0"
    assert f"### {info['version']}" in (ROOT / "README.md").read_text(encoding="utf-8"), \
        "add the version to the README's API changelog"


def test_every_operation_has_a_typed_success_body_and_typed_errors():
    schema = generated_schema()
    components = schema["components"]["schemas"]
    untyped = []
    count = 0
    for path, method, operation in operations(schema):
        count += 1
        responses = operation["responses"]
        successes = [r for status, r in responses.items() if status.startswith("2")]
        if not successes or not all(_typed(r["content"]["application/json"]["schema"], components) for r in successes):
            untyped.append(f"{method.upper()} {path}: success body")
        error_statuses = [s for s in responses if s[0] in "45"]
        if path.startswith("/api/"):
            for status in error_statuses:
                if not error_codes(responses[status]["content"]["application/json"]["schema"]):
                    untyped.append(f"{method.upper()} {path}: {status} without error codes")
            if not error_statuses:
                untyped.append(f"{method.upper()} {path}: no error documented")
    assert count >= 29
    assert untyped == []


def test_every_customer_route_documents_the_shared_refusals():
    for path, method, operation in operations(generated_schema()):
        if not path.startswith("/api/"):
            continue
        codes = {s: error_codes(r["content"]["application/json"]["schema"]) for s, r in operation["responses"].items()
                 if s[0] == "4"}
        assert "invalid_request" in codes["400"]
        assert "invalid_token" in codes["401"]
        assert codes["429"] == ["rate_limited"] and "Retry-After" in operation["responses"]["429"]["headers"]
        if "requestBody" in operation:
            assert codes["413"] == ["request_too_large"]
            assert list(operation["requestBody"]["content"]) == ["application/json"]


@pytest.mark.parametrize("path", ["/api/paper-orders", "/api/paper-orders/{id}/close", "/api/trading/close-position",
                                  "/api/sentiment-labels"])
def test_the_create_routes_take_an_idempotency_key(path):
    operation = generated_schema()["paths"][path]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])
    assert "idempotency_key_in_use" in error_codes(operation["responses"]["409"]["content"]["application/json"]["schema"])
    assert error_codes(operation["responses"]["422"]["content"]["application/json"]["schema"]) == [
        "idempotency_key_reused"]


@pytest.mark.parametrize("path", ["/api/walkthrough/screen/3", "/api/walkthrough/screen/simple/1"])
def test_the_paper_fill_screens_document_201(path):
    responses = generated_schema()["paths"][path]["post"]["responses"]
    assert "201" in responses
    assert "paper_trade" in responses["201"]["content"]["application/json"]["schema"]["properties"]


def test_requests_are_as_strict_as_the_server():
    schemas = generated_schema()["components"]["schemas"]
    create = schemas["PaperOrderCreateRequest"]
    assert {"$ref": "#/components/schemas/PreLabelEnum"} in create["properties"]["pre_label"]["allOf"]
    assert create["additionalProperties"] is False
    close = schemas["ClosePositionInput"]["properties"]
    for field in ("cost_basis", "close_price"):
        assert close[field]["pattern"].startswith("^(") and "-" not in close[field]["pattern"][:3]
    assert close["quantity"]["pattern"].startswith("^-?(")


@pytest.mark.parametrize(("value", "ok"), [("1", True), ("0.000001", True), ("9999999999.999999", True),
                                           ("", False), ("0", False), ("-1", False), ("0.0000001", False),
                                           ("10000000000", False), ("abc", False)])
def test_the_decimal_pattern_admits_exactly_what_the_server_accepts(value, ok, api):
    import re

    pattern = generated_schema()["components"]["schemas"]["PaperOrderCreateRequest"]["properties"]["quantity"]["pattern"]
    assert bool(re.match(pattern, value)) is ok
    response = api.post("/api/paper-orders", {"symbol": "AAPL", "side": "buy", "quantity": value,
                                              "entry_price": "10"})
    assert (response.status_code == 201) is ok, response.json()


def test_errors_helper_builds_enumerated_error_responses():
    responses = errors(404, "not_found", 409, "order_closed", "label_exists")
    assert set(responses) == {404, 409}
    assert error_codes(responses[409].response) == ["label_exists", "order_closed"]
    with pytest.raises(ValueError):
        errors("not_found")
    with pytest.raises(ValueError):
        errors(404)


# --- The response check itself ------------------------------------------------------------

def test_a_field_added_to_a_response_fails_the_test_that_got_it(api, monkeypatch):
    real = journal_apis.order_dict
    monkeypatch.setattr(journal_apis, "order_dict", lambda order: {**real(order), "surprise": 1})
    with pytest.raises(ContractViolation, match="surprise"):
        api.post("/api/paper-orders", {"symbol": "AAPL", "side": "buy", "quantity": "1", "entry_price": "10"})


def test_a_field_typed_differently_fails(api, monkeypatch):
    real = journal_apis.order_dict
    monkeypatch.setattr(journal_apis, "order_dict", lambda order: {**real(order), "quantity": 1.5})
    with pytest.raises(ContractViolation, match="quantity"):
        api.post("/api/paper-orders", {"symbol": "AAPL", "side": "buy", "quantity": "1", "entry_price": "10"})


def test_an_undocumented_status_fails():
    with pytest.raises(ContractViolation, match="not documented"):
        contract().check(method="GET", path="/api/me", status=418, content_type="application/json",
                         content=b'{"error": "teapot"}')


def test_an_error_code_outside_the_enum_fails():
    with pytest.raises(ContractViolation, match="error"):
        contract().check(method="GET", path="/api/paper-orders/1", status=404, content_type="application/json",
                         content=b'{"error": "position_not_found"}')


def test_a_non_json_api_response_fails():
    with pytest.raises(ContractViolation, match="not JSON"):
        contract().check(method="GET", path="/api/me", status=404, content_type="text/html", content=b"<html>")


def test_an_undocumented_2xx_fails_even_unchecked():
    with pytest.raises(ContractViolation, match="undocumented operation"):
        contract().check(method="DELETE", path="/api/me", status=200, content_type="application/json",
                         content=b"{}", lenient=True)
    # ... while the 405 a server answers there is an Error, and passes.
    contract().check(method="DELETE", path="/api/me", status=405, content_type="application/json",
                     content=b'{"error": "method_not_allowed", "detail": "Method \\"DELETE\\" not allowed."}')


@pytest.mark.schema_unchecked
def test_schema_unchecked_still_checks_the_error_shape(api):
    response = api.post("/api/paper-orders", "symbol=AAPL", content_type="text/plain")
    assert response.status_code == 415
    with pytest.raises(ContractViolation):
        contract().check(method="GET", path="/api/me", status=406, content_type="application/json",
                         content=b'{"detail": "no error key"}', lenient=True)
    contract().check(method="GET", path="/api/me", status=406, content_type="application/json",
                     content=b'{"error": "not_acceptable"}', lenient=True)


def test_healthz_is_checked_too(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "/healthz" in generated_schema()["paths"]
