"""Audit events that read: a summary of what changed, filters, and a diff on the detail page."""

from datetime import timedelta

import pytest
from django.utils import timezone
from waffle.models import Flag

from raxx.audit import acting_as, audit_log
from raxx.console.audit_admin import changes, summarize
from raxx.merge import merge_accounts
from raxx.models import AuditEvent

from .conftest import fill

pytestmark = pytest.mark.django_db
LIST = "/admin/raxx/auditevent/"


def flag_event() -> AuditEvent:
    with acting_as("operator:alice"):
        flag = Flag.objects.get(name="FLAG_WCB_ENABLED")
        flag.everyone = True
        flag.save()
    return AuditEvent.objects.filter(event_type="flag_changed").latest("id")


def test_summaries_say_what_changed(customer, other_customer):
    assert summarize(flag_event()) == "FLAG_WCB_ENABLED: everyone unset → True"
    setting = audit_log("wcb_setting_changed", customer=customer, data={
        "user_id": str(customer.pk), "old_value": "close_of_market_only", "new_value": "monthly"})
    assert summarize(setting) == "tracking_horizon close_of_market_only → monthly"
    fill(other_customer, 2)
    merge_accounts(primary_id=customer.pk, secondary_id=other_customer.pk, actor="operator:bob",
                   without_consent_reason="test: audit summary")
    merged = AuditEvent.objects.get(event_type="account_merged")
    text = summarize(merged)
    assert text.startswith(f"{str(other_customer.pk)[:8]}… merged into {str(customer.pk)[:8]}…")
    assert f"{merged.data['rows_moved']} rows moved" in text
    rows = {c.what: c.new for c in changes(merged)}
    assert rows["primary (survives)"] == str(customer.pk) and rows["journal.PaperOrder.customer"] == {"moved": 2}


def test_list_shows_summaries_and_filters_by_type_customer_actor_and_date(admin_client, customer, other_customer):
    flag_event()
    audit_log("paper_order_opened", customer=customer, actor="customer:x", data={"order_id": 1, "symbol": "AAPL"})
    audit_log("paper_order_opened", customer=other_customer, actor="customer:y", data={"order_id": 2, "symbol": "MSFT"})
    old = audit_log("test_event", data={"n": 1})
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))

    html = admin_client.get(LIST).content.decode()
    assert "FLAG_WCB_ENABLED: everyone unset → True" in html and "symbol: AAPL" in html
    assert 'name="customer"' in html and 'name="actor"' in html and 'name="created_at__date__gte"' in html

    def rows(query: str) -> int:
        response = admin_client.get(LIST + query)
        assert response.status_code == 200
        return response.context["cl"].result_count

    assert rows("?event_type=flag_changed") == 1
    assert rows(f"?customer={customer.pk}") == 1
    assert rows("?customer=not-a-uuid") == 0
    assert rows("?actor=alice") == 1
    today = timezone.now().date()
    assert rows(f"?created_at__date__gte={today - timedelta(days=11)}&created_at__date__lte={today - timedelta(days=9)}") == 1
    assert rows(f"?created_at__date__gte={today}&event_type=paper_order_opened&actor=customer:y") == 1


def test_detail_shows_a_diff_table_not_raw_json(admin_client):
    event = flag_event()
    html = admin_client.get(f"{LIST}{event.pk}/change/").content.decode()
    assert 'class="audit-diff"' in html
    assert '<th scope="row">everyone</th><td class="old">unset</td><td class="new">True</td>' in html
    assert '"everyone"' not in html  # no JSON blob


def test_audit_events_stay_read_only(admin_client):
    event = flag_event()
    assert admin_client.post(f"{LIST}{event.pk}/change/", {"actor": "x"}).status_code == 403
    assert admin_client.get(f"{LIST}{event.pk}/delete/").status_code == 403
    assert admin_client.get(f"{LIST}add/").status_code == 403
