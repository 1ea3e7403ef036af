"""Admin: the merge page (pick, preview, confirm, result), DSR export download, queued erasure."""

import json

from raxx.models import AuditEvent, Customer
from raxx.tests.accounts_testapp.models import Order

from .conftest import fill_account
from .test_merge import db_state


def merge_url(customer):
    return f"/admin/raxx/customer/{customer.pk}/merge/"


def test_change_page_and_changelist_render_with_links(admin_client, primary):
    page = admin_client.get(f"/admin/raxx/customer/{primary.pk}/change/")
    assert page.status_code == 200
    assert merge_url(primary) in page.content.decode() and "dsr-export" in page.content.decode()
    assert admin_client.get("/admin/raxx/customer/").status_code == 200
    assert admin_client.get("/admin/raxx/tombstonedemail/?q=a@example.test").status_code == 200


def test_preview_shows_the_dry_run_and_changes_nothing(admin_client, primary, secondary):
    fill_account(primary)
    fill_account(secondary)
    assert admin_client.get(merge_url(primary)).status_code == 200
    before = db_state()
    page = admin_client.post(merge_url(primary), {"secondary": str(secondary.pk), "preview": "1"})
    body = page.content.decode()
    assert page.status_code == 200 and 'id="merge-preview"' in body
    assert "accounts_testapp.Label.customer" in body and "collide on (source_table, trade_id)" in body
    assert "Confirm merge" in body
    assert db_state() == before


def test_confirm_merges_with_the_operator_as_actor(admin_client, primary, secondary):
    fill_account(primary)
    fill_account(secondary)
    page = admin_client.post(merge_url(primary), {"secondary": secondary.email, "confirm": "1"})
    assert page.status_code == 200 and 'id="merge-result"' in page.content.decode()
    assert Order.objects.filter(customer=primary).count() == 4
    assert Customer.objects.get(pk=secondary.pk).is_tombstoned
    assert AuditEvent.objects.get(event_type="account_merged").actor == "operator:operator"


def test_refusal_is_shown_and_changes_nothing(admin_client, primary):
    before = db_state()
    page = admin_client.post(merge_url(primary), {"secondary": str(primary.pk), "confirm": "1"})
    assert page.status_code == 200 and "same account" in page.content.decode()
    page = admin_client.post(merge_url(primary), {"secondary": "nobody@example.test", "confirm": "1"})
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
    assert response.status_code == 302 and len(callbacks) == 1
    assert not Order.objects.filter(customer=primary).exists()
    event = AuditEvent.objects.get(event_type="dsr_erased")
    assert event.actor == "operator:operator" and event.customer_id == primary.pk


def test_anonymous_cannot_reach_the_merge_page(client, primary):
    assert client.get(merge_url(primary)).status_code == 302
