import io
import re

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient
from waffle.models import Flag

from raxx.management.commands.seed_demo import DEMO_CUSTOMERS
from raxx.models import AuditEvent, Customer

pytestmark = pytest.mark.django_db
JWT_RE = re.compile(r"^eyJ[\w-]+\.[\w-]+\.[\w-]+$", re.M)


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_makes_an_operator_two_customers_tokens_and_flags():
    output = seed()
    assert "password" not in output.lower()
    operator = get_user_model().objects.get(username="operator")
    assert operator.is_staff and operator.is_superuser and not operator.has_usable_password()
    enroll_url = output.splitlines()[-1]
    assert re.fullmatch(r"http://localhost:8000/admin/enroll/[\w-]+/", enroll_url)
    assert APIClient().get(enroll_url.removeprefix("http://localhost:8000")).status_code == 200

    assert {(c.id, c.email) for c in Customer.objects.all()} == {(cid, email) for cid, email, _ in DEMO_CUSTOMERS}
    tokens = JWT_RE.findall(output)
    assert len(tokens) == 2
    tiers = [jwt.decode(t, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])["tier"] for t in tokens]
    assert tiers == ["pro_plus", "free"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[0]}")
    assert client.get("/api/me").json()["id"] == str(DEMO_CUSTOMERS[0][0])
    assert "curl -H" in output

    assert set(Flag.objects.filter(everyone=True).values_list("name", flat=True)) == {
        "FLAG_SENTIMENT_JOURNAL", "FLAG_WCB_ENABLED"}
    assert set(AuditEvent.objects.filter(event_type="flag_changed").values_list("actor", flat=True)) == {
        "cli:seed_demo"}


def test_seed_demo_is_idempotent_and_prints_a_fresh_enrollment_link():
    first_url = seed().splitlines()[-1]
    events = AuditEvent.objects.count()
    again = seed()
    assert "password" not in again.lower() and "exists (0 passkey(s)" in again
    assert get_user_model().objects.count() == 1 and Customer.objects.count() == 2
    # The only new evidence: the new invite (the old link stops working).
    assert list(AuditEvent.objects.values_list("event_type", flat=True)[:AuditEvent.objects.count() - events]) == [
        "operator_invited"]
    assert len(JWT_RE.findall(again)) == 2
    client = APIClient()
    assert client.get(first_url.removeprefix("http://localhost:8000")).status_code == 410
    assert client.get(again.splitlines()[-1].removeprefix("http://localhost:8000")).status_code == 200


def test_seed_demo_leaves_a_disabled_operator_disabled():
    from raxx.console.operators import operator_disable

    seed()
    operator_disable(username="operator", actor="test")
    output = seed()
    assert "is disabled" in output and "/admin/enroll/" not in output
    assert not get_user_model().objects.get(username="operator").is_active


def test_seed_demo_calls_each_feature_demo_that_exists(monkeypatch):
    import sys
    import types

    calls = []
    fake = types.ModuleType("wcb.demo")
    fake.seed_demo = lambda *, demo_customers, stdout: calls.append([(c.id, tier) for c, tier in demo_customers])
    monkeypatch.setitem(sys.modules, "wcb.demo", fake)
    seed()
    assert calls == [[(cid, tier) for cid, _, tier in DEMO_CUSTOMERS]]


def test_seed_demo_never_turns_back_on_a_flag_an_operator_turned_off(admin_client, operator):
    seed()  # re-invites the demo operator ("operator", as the fixture's): its sessions end
    operator.refresh_from_db()
    admin_client.force_login(operator)
    admin_client.post("/admin/console/kill-switch/FLAG_WCB_ENABLED/")  # the operator's kill switch
    assert Flag.objects.get(name="FLAG_WCB_ENABLED").everyone is False
    again = seed()
    assert Flag.objects.get(name="FLAG_WCB_ENABLED").everyone is False
    assert "FLAG_WCB_ENABLED (off)" in again


def test_seed_demo_leaves_a_flag_an_operator_set_before_the_first_run(flags):
    flags.off("FLAG_SENTIMENT_JOURNAL")  # an operator decided first
    seed()
    assert Flag.objects.get(name="FLAG_SENTIMENT_JOURNAL").everyone is False
    assert Flag.objects.get(name="FLAG_WCB_ENABLED").everyone is True


def test_the_demo_tester_has_walked_two_screens_once():
    from walkthrough.demo import DEMO_TESTER
    from walkthrough.models import WalkthroughProgress

    seed()
    assert WalkthroughProgress.objects.get(tester_email=DEMO_TESTER).screen_completed_max == 2
    WalkthroughProgress.objects.filter(tester_email=DEMO_TESTER).update(screen_completed_max=4)
    seed()  # a re-run never moves the tester
    assert WalkthroughProgress.objects.get(tester_email=DEMO_TESTER).screen_completed_max == 4
