"""Issue 11 defect 9: one spelling for decimals, for the JWT ``sub`` and one case rule
for the Bearer scheme (raxx/decimals.py, raxx/auth.py)."""

import uuid

import pytest
from rest_framework.test import APIClient

from conftest import token_for
from journal.models import PaperOrder
from raxx.decimals import parse_decimal
from raxx.models import Customer
from wcb.models import ClosedPosition

from .helpers import claims, sign

pytestmark = pytest.mark.django_db

LENIENT = ["١٢٣", "۱۲۳", "１２３", "１0", " 10", "10 ", "\t10", "10\n", "1 0", "+ 10", "1_000", "١٢٣.٥"]
ORDER = {"symbol": "AAPL", "side": "buy", "quantity": "10", "entry_price": "150.25"}
POSITION = {"symbol": "AAPL", "asset_type": "equity", "quantity": "50", "cost_basis": "170.12",
            "close_price": "182.34", "closed_at": "2026-04-15T19:45:00Z"}


def assert_invalid(response, field):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_request" and field in body["detail"]


@pytest.mark.parametrize("text", LENIENT)
@pytest.mark.parametrize("field", ["quantity", "entry_price"])
def test_paper_order_refuses_non_ascii_digits_and_spaces(api, text, field):
    assert_invalid(api.post("/api/paper-orders", {**ORDER, field: text}, format="json"), field)
    assert not PaperOrder.objects.exists()


@pytest.mark.parametrize("text", LENIENT)
def test_paper_order_close_refuses_them_too(api, text):
    order_id = api.post("/api/paper-orders", ORDER, format="json").json()["order"]["id"]
    assert_invalid(api.post(f"/api/paper-orders/{order_id}/close", {"exit_price": text}, format="json"), "exit_price")
    assert PaperOrder.objects.get(pk=order_id).status == "open"


@pytest.mark.parametrize("text", LENIENT)
@pytest.mark.parametrize("field", ["quantity", "cost_basis", "close_price", "close_commission"])
def test_close_position_refuses_them(api, text, field):
    assert_invalid(api.post("/api/trading/close-position", {**POSITION, field: text}, format="json"), field)
    assert not ClosedPosition.objects.exists()


@pytest.mark.parametrize("value", ["10", "10.5", "-3", "+3", ".5", "5.", "1e2", "1E-2", 10, 2.5])
def test_ascii_decimals_and_json_numbers_still_parse(value):
    assert parse_decimal(value) is not None


def test_ascii_decimals_are_still_accepted_by_the_routes(api):
    assert api.post("/api/paper-orders", {**ORDER, "quantity": "2.5", "entry_price": 150}, format="json").status_code == 201
    assert api.post("/api/trading/close-position", {**POSITION, "quantity": -5}, format="json").status_code == 201


# --- sub: the canonical UUID spelling only ---------------------------------------------

CANONICAL = "0b6a7d2e-4c1f-4e8a-9d3b-5f2a1c7e9b40"
SPELLINGS = [CANONICAL.upper(), CANONICAL.replace("-", ""), f"urn:uuid:{CANONICAL}", "{" + CANONICAL + "}",
             f" {CANONICAL}", CANONICAL[:8].upper() + CANONICAL[8:]]


def me(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/me")


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_sub_in_another_spelling_is_refused_and_never_becomes_an_account(spelling):
    response = me(sign(claims(sub=spelling)))
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    assert not Customer.objects.exists()


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_another_spelling_of_an_existing_customers_sub_reaches_nobody(spelling):
    assert me(sign(claims(sub=CANONICAL))).json()["id"] == CANONICAL
    assert me(sign(claims(sub=spelling))).status_code == 401
    assert list(Customer.objects.values_list("id", flat=True)) == [uuid.UUID(CANONICAL)]


def test_issue_token_mints_the_canonical_spelling(capsys):
    from django.core.management import call_command

    call_command("issue_token", "--sub", CANONICAL.upper(), "--tier", "pro")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert me(token).json()["id"] == CANONICAL


# --- Bearer: case-insensitive on every route (RFC 9110 §11.1) ---------------------------

@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_jwt_routes_take_the_scheme_in_any_case(customer, scheme):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token_for(customer)}")
    assert client.get("/api/me").status_code == 200


@pytest.mark.parametrize("header", ["Token {t}", "Bearer{t}", "Bearer {t} extra", "Bearerx {t}"])
def test_jwt_routes_refuse_other_schemes_and_shapes(customer, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.format(t=token_for(customer)))
    assert client.get("/api/me").status_code == 401
