"""Who looked at what: every console page showing a customer's rows records it, without the data."""

import pytest

from journal.models import PaperOrder, TradeSentimentLabel
from raxx.console.models import ReadAccess
from raxx.customer_data import OnMerge, rule_for
from raxx.merge import merge_accounts
from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgress
from wcb.models import ClosedPosition, WcbSnapshot

from .conftest import NOTE, fill

pytestmark = pytest.mark.django_db


def reads():
    return sorted(ReadAccess.objects.values_list("customer_id", "page"), key=str)


@pytest.mark.parametrize("changelist,query,page", [
    ("/admin/journal/paperorder/", "customer", "paper orders"),
    ("/admin/journal/tradesentimentlabel/", "customer", "sentiment labels"),
    ("/admin/wcb/closedposition/", "customer", "closed positions"),
    ("/admin/wcb/wcbsnapshot/", "user_id", "WCB snapshots"),
])
def test_a_filtered_list_records_that_customer_only(admin_client, customer, other_customer, changelist, query, page):
    fill(customer, 2)
    fill(other_customer, 2)
    response = admin_client.get(f"{changelist}?{query}={customer.pk}")
    assert response.status_code == 200 and NOTE not in response.content.decode()
    assert reads() == [(customer.pk, page)]


def test_an_unfiltered_list_records_each_customer_on_the_page_in_one_insert(admin_client, customer, other_customer,
                                                                          django_assert_max_num_queries):
    fill(customer, 2)
    fill(other_customer, 2)
    admin_client.get("/admin/journal/paperorder/")
    assert reads() == sorted([(customer.pk, "paper orders"), (other_customer.pk, "paper orders")], key=str)


@pytest.mark.parametrize("model,url,page", [
    (PaperOrder, "journal/paperorder", "paper order"),
    (TradeSentimentLabel, "journal/tradesentimentlabel", "trade sentiment label"),
    (ClosedPosition, "wcb/closedposition", "closed position"),
    (WcbSnapshot, "wcb/wcbsnapshot", "WCB snapshot"),
])
def test_a_detail_page_records_its_customer(admin_client, customer, other_customer, model, url, page):
    fill(customer, 1)
    fill(other_customer, 1)
    row = model.objects.filter(**({"user_id": customer.pk} if model is WcbSnapshot else {"customer": customer})).get()
    response = admin_client.get(f"/admin/{url}/{row.pk}/change/")
    assert response.status_code == 200 and NOTE not in response.content.decode()
    assert reads() == [(customer.pk, page)]


def test_walkthrough_rows_record_the_customer_with_that_email(admin_client, customer, other_customer):
    fill(customer, 1)
    progress = WalkthroughProgress.objects.get(tester_email=customer.email)
    admin_client.get(f"/admin/walkthrough/walkthroughprogress/{progress.pk}/change/")
    assert reads() == [(customer.pk, "tester progress")]
    ReadAccess.objects.all().delete()
    WalkthroughPaperTrade.objects.create(progress=progress, underlying="SPY", legs_json="[]")
    admin_client.get("/admin/walkthrough/walkthroughpapertrade/")
    assert reads() == [(customer.pk, "walkthrough paper trades")]
    ReadAccess.objects.all().delete()
    admin_client.get("/admin/walkthrough/walkthroughprogress/?q=nobody")
    assert reads() == []


def test_a_read_access_row_holds_no_data(admin_client, customer):
    fill(customer, 1)
    admin_client.get(f"/admin/journal/paperorder/?customer={customer.pk}&q=S0")
    row = ReadAccess.objects.get()
    assert row.path == "/admin/journal/paperorder/" and "S0" not in str(row.__dict__)  # no query string


def test_the_rule_moves_reads_with_the_data_and_erasure_deletes_them(admin_client, customer, other_customer):
    assert rule_for(ReadAccess, "customer").on_merge == OnMerge.REATTRIBUTE
    admin_client.get(f"/admin/raxx/customer/{other_customer.pk}/change/")
    merge_accounts(primary_id=customer.pk, secondary_id=other_customer.pk, actor="test",
                   without_consent_reason="test: read accesses follow the data")
    assert ReadAccess.objects.get().customer_id == customer.pk
    from raxx.dsr import erase_customer

    result = erase_customer(customer_id=customer.pk)
    assert result.deleted["console.ReadAccess"] == 1 and not ReadAccess.objects.exists()


def test_the_system_check_needs_the_rule(db):
    from raxx.checks import customer_data_rules_check
    from raxx.customer_data import register, unregister

    rule = unregister(ReadAccess, "customer")
    try:
        assert any("console.ReadAccess.customer" in e.msg for e in customer_data_rules_check())
    finally:
        register(ReadAccess, field=rule.field, on_merge=rule.on_merge, note=rule.note)
    assert customer_data_rules_check() == []
