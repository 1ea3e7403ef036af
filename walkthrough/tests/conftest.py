from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from raxx.tests.helpers import clear_cache
from walkthrough.routing import PERSONA_ROUTING, SELF_SELECT
from walkthrough.scenarios import clear_fixture_cache
from walkthrough.services import program_get_or_create, walkthrough_invite

IC_LEGS = [
    {"role": "long_put", "strike": 5250.0, "expiry": "2026-06-26", "option_type": "put", "action": "buy", "premium": 4.1},
    {"role": "short_put", "strike": 5300.0, "expiry": "2026-06-26", "option_type": "put", "action": "sell", "premium": 6.2},
    {"role": "short_call", "strike": 5550.0, "expiry": "2026-06-26", "option_type": "call", "action": "sell", "premium": 5.4},
    {"role": "long_call", "strike": 5600.0, "expiry": "2026-06-26", "option_type": "call", "action": "buy", "premium": 3.0},
]
CC_LEGS = [{"role": "short_call_cc", "strike": 205.0, "expiry": "2026-06-26", "option_type": "call", "action": "sell",
            "premium": 0.92}]
VS_LEGS = [
    {"role": "short_put_vs", "strike": 530.0, "expiry": "2026-06-26", "option_type": "put", "action": "sell", "premium": 4.5},
    {"role": "long_put_vs", "strike": 525.0, "expiry": "2026-06-26", "option_type": "put", "action": "buy", "premium": 3.3},
]
LEGS = {"ic": IC_LEGS, "cc": CC_LEGS, "vs": VS_LEGS}
PERSONA = {"experience": "1_to_3", "account_type": "taxable", "structures_used": "spreads"}
SURVEY = {"structure_clear": 4, "fields_clear": 5, "matched_account": "partly", "comment": "Clear enough."}


@pytest.fixture(autouse=True)
def _fresh_fixtures():
    clear_fixture_cache()
    yield
    clear_fixture_cache()


@pytest.fixture
def program(db):
    return program_get_or_create(name="cohort-1", ends_on=timezone.now().date() + timedelta(days=30))


@pytest.fixture
def invite(program):
    """``invite(email)`` → (progress, raw token)."""

    def make(email="tester@example.test", prog=None):
        result = walkthrough_invite(email=email, program=prog or program)
        return result.progress, result.token

    return make


def client_for(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def tester(invite):
    progress, token = invite()
    return progress, client_for(token), token


@pytest.fixture
def cell(flags):
    """``cell(self_select, routing)`` sets the two walkthrough flags."""

    def set_cell(self_select: bool, routing: bool):
        (flags.on if self_select else flags.off)(SELF_SELECT)
        (flags.on if routing else flags.off)(PERSONA_ROUTING)
        # waffle flushes its cache in transaction.on_commit, which never fires inside a
        # test transaction: clear it so a mid-test flip is seen, as it is in production.
        clear_cache()

    return set_cell
