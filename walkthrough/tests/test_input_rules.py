"""Issue 11 defect 9 on walkthrough routes: strikes and premiums follow raxx/decimals.py,
and the Bearer scheme follows the same case rule as JWT routes (raxx/auth.py)."""

import pytest

from walkthrough.models import WalkthroughPaperTrade
from walkthrough.tests.conftest import IC_LEGS, client_for
from walkthrough.tests.test_gates import at_screen_3


@pytest.mark.parametrize("text", ["٥٢٥٠", " 5250", "5250 ", "５２５０"])
def test_a_strike_in_non_ascii_digits_or_with_spaces_fails_the_gate(invite, cell, text):
    _, c = at_screen_3(invite, cell, "income")
    legs = [{**IC_LEGS[0], "strike": text}, *IC_LEGS[1:]]
    response = c.post("/api/walkthrough/screen/3", {"legs": legs}, format="json")
    assert response.status_code == 422
    assert {"code": "invalid_strike", "leg": 0, "role": "long_put"} in response.json()["detail"]
    assert not WalkthroughPaperTrade.objects.exists()


def test_an_ascii_decimal_string_strike_still_passes(invite, cell):
    _, c = at_screen_3(invite, cell, "income")
    legs = [{**IC_LEGS[0], "strike": "5250.0"}, *IC_LEGS[1:]]
    assert c.post("/api/walkthrough/screen/3", {"legs": legs}, format="json").status_code == 201


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_scheme_is_case_insensitive_as_on_jwt_routes(tester, scheme):
    _, _, token = tester
    c = client_for(token)
    c.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    assert c.get("/api/walkthrough/status").status_code == 200


@pytest.mark.parametrize("header", ["Token {t}", "Bearer {t} x", "Bearerx {t}"])
def test_other_schemes_are_refused(tester, header):
    _, _, token = tester
    c = client_for(token)
    c.credentials(HTTP_AUTHORIZATION=header.format(t=token))
    response = c.get("/api/walkthrough/status")
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
