"""CONTRACTS §0: every error under /api is ``{"error": code, ...}`` JSON, never HTML, never a traceback."""

import pytest
from rest_framework.test import APIClient

from .helpers import PROBE_URLS

pytestmark = [pytest.mark.django_db, pytest.mark.urls(PROBE_URLS)]


def assert_json_error(response, status: int, code: str):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code
    assert b"Traceback" not in response.content and b"<html" not in response.content.lower()
    return body


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def test_drf_validation_error_names_the_field(api, debug):
    body = assert_json_error(api.post("/api/probe/echo", {"amount": "lots"}, format="json"), 400, "invalid_request")
    assert list(body["detail"]) == ["amount"] and isinstance(body["detail"]["amount"], list)


def test_malformed_json_is_400(api, debug):
    assert_json_error(api.post("/api/probe/echo", "{nope", content_type="application/json"), 400, "invalid_request")


def test_unsupported_media_type_is_415(api, debug):
    assert_json_error(api.post("/api/probe/echo", "amount=1", content_type="text/plain"), 415, "unsupported_media_type")


def test_drf_method_not_allowed_is_405(api, debug):
    assert_json_error(api.delete("/api/me"), 405, "method_not_allowed")


def test_drf_unauthenticated_is_401(debug):
    assert_json_error(APIClient().get("/api/me"), 401, "not_authenticated")


def test_drf_404_is_json(api, debug):
    assert_json_error(api.get("/api/probe/missing"), 404, "not_found")


def test_drf_unhandled_exception_is_a_bare_json_500(api, debug):
    body = assert_json_error(api.get("/api/probe/boom"), 500, "server_error")
    assert body == {"error": "server_error"}


def test_django_unknown_route_is_json_404(client, debug):
    assert_json_error(client.get("/api/no-such-route"), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/me/", "/api/schema/", "/healthz/"])
def test_no_trailing_slashes(api, path):
    assert api.get(path).status_code == 404
    assert api.get(path.rstrip("/")).status_code == 200


def test_django_500_is_json(client, debug):
    assert_json_error(client.get("/api/probe/django-boom"), 500, "server_error")


def test_django_400_is_json(client, debug):
    assert_json_error(client.get("/api/probe/django-bad"), 400, "invalid_request")


def test_django_405_is_json(client, debug):
    assert_json_error(client.post("/api/probe/django-get-only"), 405, "method_not_allowed")


def test_errors_outside_api_stay_django_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/schema")
    assert schema.status_code == 200 and b"/api/me" in schema.content
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html


def test_absurdly_deep_json_is_a_400_not_a_500(api):
    body = "[" * 100_000 + "]" * 100_000
    response = api.post("/api/paper-orders", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_lone_surrogate_echoed_in_an_error_is_a_400_not_a_500(api):
    body = '{"symbol": "AAPL", "asset_type": "\\ud800", "quantity": "1", "cost_basis": "1", "close_price": "1"}'
    response = api.post("/api/trading/close-position", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
