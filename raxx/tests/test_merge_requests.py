"""CONTRACTS §9, black-box: support opens a merge request, each holder confirms it with a step-up
token (or declines), support executes it; every path, its audit events, and what changes."""

import io
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import make_customer, token_for
from raxx.models import AuditEvent, Customer, MergeRequest
from raxx.tasks import expire_merge_requests_task
from raxx.tests.accounts_testapp.models import Order

from .conftest import fill_account
from .helpers import step_up_token

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def open_request(primary, secondary, reason="ticket 42: same person, two sign-ups") -> str:
    return run("merge_request", "--primary", str(primary.pk), "--secondary", str(secondary.pk),
               "--reason", reason).strip().splitlines()[-1]


def client(token: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return c


def stepped_up(customer, **kwargs) -> APIClient:
    return client(step_up_token(customer, **kwargs))


def confirm(customer, request_id, **kwargs):
    return stepped_up(customer, **kwargs).post(f"/api/account/merge-requests/{request_id}/confirm")


def execute(request_id) -> str:
    return run("merge_accounts", "--request", request_id, "--yes")


def events(kind: str):
    return list(AuditEvent.objects.filter(event_type=kind).order_by("id"))


@pytest.fixture
def pair(primary, secondary):
    fill_account(primary)
    fill_account(secondary, trade_ids=(7,), program="other")
    return primary, secondary


def test_issue_token_mints_a_step_up_token():
    sub = make_customer().pk
    out = run("issue_token", "--sub", str(sub), "--tier", "pro", "--amr", "hwk,user", "--auth-age", "30")
    claims = jwt.decode(out.strip().splitlines()[-1], settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])
    assert claims["amr"] == ["hwk", "user"]
    assert abs(claims["auth_time"] - (timezone.now().timestamp() - 30)) < 5
    plain = jwt.decode(run("issue_token", "--sub", str(sub), "--tier", "pro").strip().splitlines()[-1],
                       settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])
    assert "amr" not in plain and "auth_time" not in plain
    with pytest.raises(CommandError):
        run("issue_token", "--sub", str(sub), "--tier", "pro", "--auth-age", "-5")


def test_consent_from_both_then_execute(pair):
    primary, secondary = pair
    request_id = open_request(primary, secondary)
    opened = events("merge_request_opened")
    assert len(opened) == 1 and opened[0].data["request_id"] == request_id and opened[0].actor == "cli:merge_request"

    listed = stepped_up(secondary).get("/api/account/merge-requests")
    assert listed.status_code == 200
    [item] = listed.json()["merge_requests"]
    assert item["id"] == request_id and item["role"] == "secondary" and item["status"] == "pending"
    assert item["reason"] == "ticket 42: same person, two sign-ups"
    assert (item["confirmed_by_me"], item["other_confirmed"]) == (False, False)
    assert set(item) == {"id", "role", "status", "reason", "created_at", "expires_at", "confirmed_by_me",
                         "other_confirmed"}

    first = confirm(primary, request_id)
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "pending" and first.json()["confirmed_by_me"] is True
    assert first.json()["role"] == "primary"
    assert confirm(primary, request_id).status_code == 200  # a second confirm is a no-op
    theirs = client(token_for(secondary)).get("/api/account/merge-requests").json()["merge_requests"][0]
    assert (theirs["confirmed_by_me"], theirs["other_confirmed"]) == (False, True)

    second = confirm(secondary, request_id)
    assert second.status_code == 200 and second.json()["status"] == "confirmed"
    confirmed = events("merge_request_confirmed")
    assert [(e.customer_id, e.data["role"]) for e in confirmed] == [(primary.pk, "primary"), (secondary.pk, "secondary")]
    assert all(e.actor == f"customer:{e.customer_id}" for e in confirmed)

    out = execute(request_id)
    assert "Merged" in out and "consent: both" in out
    assert Order.objects.filter(customer=primary).count() == 4
    assert Customer.objects.get(pk=secondary.pk).is_tombstoned
    [merged] = events("account_merged")
    assert merged.data["consent"] == "both" and merged.data["request_id"] == request_id
    row = MergeRequest.objects.get(pk=request_id)
    assert (row.status, row.consent, row.closed_by) == ("executed", "both", "cli:merge_accounts")
    assert client(token_for(primary)).get("/api/account/merge-requests").json()["merge_requests"][0][
        "status"] == "executed"
    assert confirm(primary, request_id).status_code == 409


def test_consent_from_one_only_is_not_enough(pair):
    primary, secondary = pair
    request_id = open_request(primary, secondary)
    assert confirm(secondary, request_id).status_code == 200
    with pytest.raises(CommandError, match="not confirmed by the primary account holder"):
        execute(request_id)
    assert Order.objects.filter(customer=primary).count() == 2
    assert not Customer.objects.get(pk=secondary.pk).is_tombstoned
    assert not events("account_merged")
    assert MergeRequest.objects.get(pk=request_id).status == "pending"


@pytest.mark.parametrize("token_kwargs", [
    {"auth_age": 301},  # MERGE_CONSENT_MAX_AGE_S = 300
    {"amr": ("pwd",)},  # a password is not a key
    {"amr": ("otp", "sms")},
    {"amr": ()},
    {"auth_age": -600},  # auth_time in the future
], ids=["stale_auth_time", "amr_pwd", "amr_otp_sms", "amr_empty", "future_auth_time"])
def test_confirm_without_a_step_up_token_is_403(pair, token_kwargs):
    primary, secondary = pair
    request_id = open_request(primary, secondary)
    response = confirm(primary, request_id, **token_kwargs)
    assert response.status_code == 403 and response.json()["error"] == "step_up_required"
    plain = client(token_for(primary)).post(f"/api/account/merge-requests/{request_id}/confirm")
    assert plain.status_code == 403 and plain.json()["error"] == "step_up_required"
    assert MergeRequest.objects.get(pk=request_id).primary_confirmed_at is None
    assert not events("merge_request_confirmed")


def test_step_up_settings_are_read_per_request(pair, settings):
    primary, secondary = pair
    request_id = open_request(primary, secondary)
    settings.MERGE_CONSENT_MAX_AGE_S = 60
    assert confirm(primary, request_id, auth_age=120).status_code == 403
    settings.MERGE_CONSENT_AMR = ["swk"]
    assert confirm(primary, request_id, amr=("hwk",)).status_code == 403
    assert confirm(primary, request_id, amr=("swk",), auth_age=10).status_code == 200


def test_a_third_customer_gets_404_and_sees_nothing(pair, other_customer):
    primary, secondary = pair
    request_id = open_request(primary, secondary)
    third = stepped_up(other_customer)
    assert third.get("/api/account/merge-requests").json() == {"merge_requests": []}
    for action in ("confirm", "decline"):
        response = third.post(f"/api/account/merge-requests/{request_id}/{action}")
        assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert third.post("/api/account/merge-requests/not-a-uuid/confirm").status_code == 404
    row = MergeRequest.objects.get(pk=request_id)
    assert (row.status, row.primary_confirmed_at, row.secondary_confirmed_at) == ("pending", None, None)
    assert not events("merge_request_confirmed") and not events("merge_request_declined")


def test_anonymous_is_401():
    response = APIClient().get("/api/account/merge-requests")
    assert response.status_code == 401 and response.json()["error"] == "not_authenticated"


def test_decline_cancels_and_nothing_can_follow(pair):
    primary, secondary = pair
    request_id = open_request(primary, secondary)
    assert confirm(primary, request_id).status_code == 200
    declined = client(token_for(secondary)).post(f"/api/account/merge-requests/{request_id}/decline")
    assert declined.status_code == 200 and declined.json()["status"] == "cancelled"
    [event] = events("merge_request_declined")
    assert event.customer_id == secondary.pk and event.data["role"] == "secondary"
    again = client(token_for(primary)).post(f"/api/account/merge-requests/{request_id}/decline")
    assert again.status_code == 409 and again.json()["error"] == "merge_request_closed"
    assert confirm(secondary, request_id).status_code == 409
    with pytest.raises(CommandError, match="cancelled"):
        execute(request_id)
    assert not Customer.objects.get(pk=secondary.pk).is_tombstoned
    open_request(primary, secondary)  # a closed request blocks nothing


def test_a_holder_can_withdraw_after_both_confirmed(pair):
    primary, secondary = pair
    request_id = open_request(primary, secondary)
    confirm(primary, request_id)
    confirm(secondary, request_id)
    assert client(token_for(primary)).post(f"/api/account/merge-requests/{request_id}/decline").status_code == 200
    with pytest.raises(CommandError, match="cancelled"):
        execute(request_id)
    assert not events("account_merged")


def test_expiry_by_the_beat_task(pair):
    primary, secondary = pair
    request_id = open_request(primary, secondary)
    row = MergeRequest.objects.get(pk=request_id)
    assert row.expires_at - row.created_at == timedelta(days=7)
    confirm(primary, request_id)
    confirm(secondary, request_id)
    assert expire_merge_requests_task.delay().get() == 0  # not due yet
    MergeRequest.objects.filter(pk=request_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    # Past expiry, before the sweep: already shown and treated as expired.
    assert client(token_for(primary)).get("/api/account/merge-requests").json()["merge_requests"][0][
        "status"] == "expired"
    with pytest.raises(CommandError, match="expired"):
        execute(request_id)
    assert expire_merge_requests_task.delay().get() == 1
    row.refresh_from_db()
    assert (row.status, row.closed_by) == ("expired", "system:expiry")
    [event] = events("merge_request_expired")
    assert event.customer_id == primary.pk and event.data["request_id"] == request_id
    assert expire_merge_requests_task.delay().get() == 0  # once
    response = confirm(primary, request_id)
    assert response.status_code == 409 and response.json()["error"] == "merge_request_closed"
    assert not events("account_merged")


def test_the_expiry_task_is_a_declared_periodic_job():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="raxx.tasks.expire_merge_requests")
    assert task.enabled and task.crontab.minute == "15" and task.crontab.hour == "*"


def test_break_glass_is_audited_as_waived(pair):
    primary, secondary = pair
    with pytest.raises(CommandError, match="reason"):
        run("merge_accounts", "--primary", str(primary.pk), "--secondary", str(secondary.pk), "--yes",
            "--without-consent")
    with pytest.raises(CommandError, match="consent"):
        run("merge_accounts", "--primary", str(primary.pk), "--secondary", str(secondary.pk), "--yes")
    assert not Customer.objects.get(pk=secondary.pk).is_tombstoned
    out = run("merge_accounts", "--primary", str(primary.pk), "--secondary", str(secondary.pk), "--yes",
              "--without-consent", "--reason", "court order 2026-77")
    assert "consent: waived" in out
    [event] = events("account_merged")
    assert event.data["consent"] == "waived" and event.data["reason"] == "court order 2026-77"
    assert event.data["request_id"] is None and event.actor == "cli:merge_accounts"
    assert Order.objects.filter(customer=primary).count() == 4


def test_break_glass_is_refused_while_a_request_is_open(pair):
    primary, secondary = pair
    request_id = open_request(primary, secondary)
    with pytest.raises(CommandError, match=f"Merge request {request_id}.*still open"):
        run("merge_accounts", "--primary", str(primary.pk), "--secondary", str(secondary.pk), "--yes",
            "--without-consent", "--reason", "ticket")
    # ... but it may waive consent on that very request (recorded on it).
    run("merge_accounts", "--request", request_id, "--yes", "--without-consent", "--reason", "holder unreachable")
    row = MergeRequest.objects.get(pk=request_id)
    assert (row.status, row.consent) == ("executed", "waived")
    assert events("account_merged")[0].data["request_id"] == request_id


def test_opening_is_refused_while_another_open_request_names_either_account(pair, other_customer):
    primary, secondary = pair
    request_id = open_request(primary, secondary)
    for a, b in ((other_customer, secondary), (primary, other_customer), (secondary, primary)):
        with pytest.raises(CommandError) as info:
            open_request(a, b)
        assert request_id in str(info.value) and "[open_request]" in str(info.value)
    assert MergeRequest.objects.count() == 1 and len(events("merge_request_opened")) == 1


def test_execution_is_refused_while_another_open_request_names_either_account(pair, other_customer):
    """Two opens cannot race past the customer-row locks; a request created behind the service's
    back (here: directly) still blocks the execution, naming itself."""
    primary, secondary = pair
    request_id = open_request(primary, secondary)
    confirm(primary, request_id)
    confirm(secondary, request_id)
    blocker = MergeRequest.objects.create(primary=other_customer, secondary=secondary, reason="x", opened_by="t",
                                          expires_at=timezone.now() + timedelta(days=1))
    with pytest.raises(CommandError, match=f"Merge request {blocker.pk}.*still open for account {secondary.pk}"):
        execute(request_id)
    assert not Customer.objects.get(pk=secondary.pk).is_tombstoned


@pytest.mark.parametrize("which", ["primary", "secondary"])
def test_opening_is_refused_for_a_tombstoned_account(pair, other_customer, which):
    primary, secondary = pair
    gone = primary if which == "primary" else secondary
    call_command("dsr_erase", "--user", str(gone.pk), "--yes", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match=f"{which} account {gone.pk} is already tombstoned"):
        open_request(primary, secondary)
    assert not MergeRequest.objects.exists()


def test_opening_needs_a_reason_and_two_accounts(pair):
    primary, secondary = pair
    with pytest.raises(CommandError, match="reason"):
        open_request(primary, secondary, reason="   ")
    with pytest.raises(CommandError, match="same account"):
        open_request(primary, primary)
    assert not MergeRequest.objects.exists()


def test_erasure_of_a_holder_deletes_its_requests(pair):
    primary, secondary = pair
    request_id = open_request(primary, secondary)
    confirm(primary, request_id)
    call_command("dsr_erase", "--user", str(secondary.pk), "--yes", stdout=io.StringIO(), stderr=io.StringIO())
    assert not MergeRequest.objects.filter(pk=request_id).exists()
    with pytest.raises(CommandError, match="No merge request"):
        execute(request_id)
    assert client(token_for(primary)).get("/api/account/merge-requests").json() == {"merge_requests": []}


def test_list_costs_the_same_queries_for_one_or_many(primary, django_assert_max_num_queries):
    others = [make_customer() for _ in range(6)]
    api = client(token_for(primary))
    api.get("/api/me")  # provisioned, last-seen fresh
    open_request(primary, others[0])
    with django_assert_max_num_queries(1):  # the list (the customer row is cached)
        assert len(api.get("/api/account/merge-requests").json()["merge_requests"]) == 1
    for i, other in enumerate(others[1:]):  # closed ones stay listed (history), newest first
        MergeRequest.objects.create(primary=other if i % 2 else primary, secondary=primary if i % 2 else other,
                                    reason="old", opened_by="t", status="cancelled",
                                    expires_at=timezone.now() + timedelta(days=1))
    with django_assert_max_num_queries(1):  # the list (the customer row is cached)
        assert len(api.get("/api/account/merge-requests").json()["merge_requests"]) == 6


def test_schema_declares_the_routes_and_their_errors(client):
    schema = client.get("/api/schema").json()
    confirm_op = schema["paths"]["/api/account/merge-requests/{id}/confirm"]["post"]
    assert {"200", "401", "403", "404", "409"} <= set(confirm_op["responses"])  # + the shared 400/429 (hook)
    listing = schema["paths"]["/api/account/merge-requests"]["get"]["responses"]["200"]
    listed = listing["content"]["application/json"]["schema"]["properties"]["merge_requests"]
    assert listed["items"]["$ref"].endswith("/MergeRequest")
    item = schema["components"]["schemas"]["MergeRequest"]
    assert set(item["properties"]) == {"id", "role", "status", "reason", "created_at", "expires_at",
                                       "confirmed_by_me", "other_confirmed"}
    assert schema["paths"]["/api/account/merge-requests/{id}/decline"]["post"]["responses"]["409"]
