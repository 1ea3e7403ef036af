"""Admin: open a merge request from the customer page, the request page (consent, preview in words,
execute, cancel, break-glass), DSR export download, queued erasure."""

import json

from raxx.merge_requests import confirm_merge_request, open_merge_request
from raxx.models import AuditEvent, Customer, MergeRequest
from raxx.tests.accounts_testapp.models import Order

from .conftest import fill_account
from .helpers import confirmed_request
from .test_merge import db_state


def merge_url(customer):
    return f"/admin/raxx/customer/{customer.pk}/merge/"


def test_change_page_and_changelist_render_with_links(admin_client, primary):
    page = admin_client.get(f"/admin/raxx/customer/{primary.pk}/change/")
    assert page.status_code == 200
    assert merge_url(primary) in page.content.decode() and "dsr-export" in page.content.decode()
    assert admin_client.get("/admin/raxx/customer/").status_code == 200
    assert admin_client.get("/admin/raxx/tombstonedemail/?q=a@example.test").status_code == 200


def request_url(merge_request, action: str = "change"):
    return f"/admin/raxx/mergerequest/{merge_request.pk}/{action}/"


def test_opening_a_request_from_the_customer_page_merges_nothing(admin_client, primary, secondary):
    fill_account(primary)
    fill_account(secondary)
    page = admin_client.get(merge_url(primary))
    assert page.status_code == 200 and 'id="open-merge-request"' in page.content.decode()
    before = db_state()
    response = admin_client.post(merge_url(primary), {"secondary": secondary.email, "reason": "ticket 12"})
    merge_request = MergeRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == request_url(merge_request)
    assert (merge_request.primary_id, merge_request.secondary_id, merge_request.opened_by) == (
        primary.pk, secondary.pk, "operator:operator")
    assert AuditEvent.objects.get(event_type="merge_request_opened").actor == "operator:operator"
    after = db_state()
    after.pop("raxx.AuditEvent"), before.pop("raxx.AuditEvent")
    assert after == before  # nothing merged


def test_the_request_page_shows_consent_and_the_preview_in_words(admin_client, primary, secondary):
    fill_account(primary)
    fill_account(secondary)
    merge_request = open_merge_request(primary_id=primary.pk, secondary_id=secondary.pk, reason="ticket 12")
    body = admin_client.get(request_url(merge_request)).content.decode()
    assert 'id="merge-consent"' in body and body.count("not confirmed yet") == 2
    assert "2 orders move to the primary" in body
    assert "2 labels are deleted: the primary already has one for the same source_table, trade_id" in body
    assert "1 draft is deleted" in body and "1 receipt stays with the closed secondary account" in body
    assert "1 snapshot moves to the primary" in body
    assert 'id="merge-execute" disabled' in body  # nobody consented yet
    confirm_merge_request(customer=primary, request_id=merge_request.pk, stepped_up=True)
    body = admin_client.get(request_url(merge_request)).content.decode()
    assert body.count("not confirmed yet") == 1 and 'id="merge-execute" disabled' in body
    response = admin_client.post(request_url(merge_request, "execute"))
    assert "not confirmed by the secondary account holder" in response.content.decode()
    assert not Customer.objects.get(pk=secondary.pk).is_tombstoned


def test_execute_once_both_consented(admin_client, primary, secondary):
    fill_account(primary)
    fill_account(secondary)
    merge_request = confirmed_request(primary, secondary)
    body = admin_client.get(request_url(merge_request)).content.decode()
    assert 'id="merge-execute" disabled' not in body and 'id="merge-execute"' in body
    response = admin_client.post(request_url(merge_request, "execute"))
    assert response.status_code == 302
    assert Order.objects.filter(customer=primary).count() == 4
    event = AuditEvent.objects.get(event_type="account_merged")
    assert event.actor == "operator:operator" and event.data["consent"] == "both"
    body = admin_client.get(request_url(merge_request)).content.decode()
    assert "executed" in body and 'id="merge-execute"' not in body
    assert admin_client.get(request_url(merge_request, "execute")).status_code == 405


def test_changelist_filters_by_customer_on_either_side(admin_client, primary, secondary):
    from conftest import make_customer

    third, fourth = make_customer(), make_customer()
    mine = open_merge_request(primary_id=primary.pk, secondary_id=secondary.pk, reason="a")
    theirs = open_merge_request(primary_id=third.pk, secondary_id=fourth.pk, reason="b")
    for customer, shown, hidden in ((secondary, mine, theirs), (primary, mine, theirs), (fourth, theirs, mine)):
        body = admin_client.get(f"/admin/raxx/mergerequest/?customer={customer.pk}").content.decode()
        assert str(shown.pk) in body and str(hidden.pk) not in body
    assert str(mine.pk) not in admin_client.get("/admin/raxx/mergerequest/?customer=nope").content.decode()


def test_break_glass_is_superuser_only_and_needs_a_reason(admin_client, client, operator, primary, secondary,
                                                          django_user_model):
    merge_request = open_merge_request(primary_id=primary.pk, secondary_id=secondary.pk, reason="ticket 12")
    staff = django_user_model.objects.create_user("helper", "helper@example.test", "x", is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.set(Permission.objects.filter(codename__in=[
        "view_mergerequest", "change_mergerequest", "add_mergerequest", "view_customer", "change_customer"]))
    client.force_login(staff)
    body = client.get(request_url(merge_request)).content.decode()
    assert "merge-break-glass" not in body and 'id="merge-execute" disabled' in body
    assert client.post(request_url(merge_request, "break-glass"), {"reason": "x"}).status_code == 404
    assert not Customer.objects.get(pk=secondary.pk).is_tombstoned

    client.force_login(operator)  # admin_client is the same client: back to the superuser
    assert "merge-break-glass" in admin_client.get(request_url(merge_request)).content.decode()
    page = admin_client.post(request_url(merge_request, "break-glass"), {"reason": ""})
    assert page.status_code == 200 and "This field is required" in page.content.decode()
    assert not Customer.objects.get(pk=secondary.pk).is_tombstoned
    response = admin_client.post(request_url(merge_request, "break-glass"), {"reason": "court order 77"})
    assert response.status_code == 302 and Customer.objects.get(pk=secondary.pk).is_tombstoned
    event = AuditEvent.objects.get(event_type="account_merged")
    assert (event.data["consent"], event.data["reason"], event.data["request_id"]) == (
        "waived", "court order 77", str(merge_request.pk))


def test_support_can_cancel_an_open_request(admin_client, primary, secondary):
    merge_request = open_merge_request(primary_id=primary.pk, secondary_id=secondary.pk, reason="typo")
    assert admin_client.post(request_url(merge_request, "cancel")).status_code == 302
    merge_request.refresh_from_db()
    assert merge_request.status == "cancelled" and merge_request.closed_by == "operator:operator"
    assert AuditEvent.objects.get(event_type="merge_request_cancelled").actor == "operator:operator"


def test_refusal_is_shown_and_changes_nothing(admin_client, primary):
    before = db_state()
    page = admin_client.post(merge_url(primary), {"secondary": str(primary.pk), "reason": "x"})
    assert page.status_code == 200 and "same account" in page.content.decode()
    page = admin_client.post(merge_url(primary), {"secondary": "nobody@example.test", "reason": "x"})
    assert "No single live account" in page.content.decode()
    assert db_state() == before


def test_dsr_export_download(admin_client, primary):
    fill_account(primary)
    response = admin_client.get(f"/admin/raxx/customer/{primary.pk}/dsr-export/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["customer"]["id"] == str(primary.pk)
    assert AuditEvent.objects.get(event_type="dsr_exported").actor == "operator:operator"


def test_erasure_action_confirms_then_queues_after_commit(admin_client, primary, secondary,
                                                          django_capture_on_commit_callbacks):
    fill_account(primary)
    data = {"action": "queue_dsr_erasure", "_selected_action": [str(primary.pk)]}
    page = admin_client.post("/admin/raxx/customer/", data)
    assert page.status_code == 200 and "queue the erasure" in page.content.decode()
    assert Order.objects.filter(customer=primary).exists()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post("/admin/raxx/customer/", {**data, "confirmed": "yes"})
    queued = [cb for cb in callbacks if "queue_dsr_erasure" in cb.__qualname__]
    assert response.status_code == 302 and len(queued) == 1  # (the erasure's own cache invalidation is another)
    assert not Order.objects.filter(customer=primary).exists()
    event = AuditEvent.objects.get(event_type="dsr_erased")
    assert event.actor == "operator:operator" and event.customer_id == primary.pk


def test_anonymous_cannot_reach_the_merge_page(client, primary):
    assert client.get(merge_url(primary)).status_code == 302
