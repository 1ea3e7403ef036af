"""The customer page: what it shows (never note text), its links, its read-access events and query count."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_customer
from raxx.console.models import ReadAccess
from raxx.dsr import export_customer

from .conftest import NOTE, fill

pytestmark = pytest.mark.django_db


def page_url(customer) -> str:
    return f"/admin/raxx/customer/{customer.pk}/change/"


def test_page_shows_identity_counts_positions_walkthrough_and_timeline(admin_client, customer, other_customer):
    fill(customer, 3)
    fill(other_customer, 2)
    html = admin_client.get(page_url(customer)).content.decode()
    assert str(customer.pk) in html and customer.email in html
    assert 'name="email"' not in html and "<textarea" not in html  # identity is read-only
    journal = re.search(r'id="cp-journal">(.*?)</table>', html, re.S).group(1)
    assert '<span class="cp-count">3</span>' in journal and "16.78" in journal  # 3 × 5.592594, rounded to cents
    assert f"/admin/journal/paperorder/?customer={customer.pk}" in journal
    assert f"/admin/journal/tradesentimentlabel/?customer={customer.pk}" in journal
    assert "3 with a note (text never shown here)" in journal
    wcb = re.search(r'id="cp-wcb">(.*?)</table>', html, re.S).group(1)
    assert "101.99" in wcb and "101.987654" not in wcb and "5.59" in wcb
    assert f"/admin/wcb/wcbsnapshot/?user_id={customer.pk}" in html
    assert "2 of 5" in re.search(r'id="cp-walkthrough">(.*?)</table>', html, re.S).group(1)
    timeline = re.search(r'id="cp-timeline">(.*?)</ul>', html, re.S).group(1)
    assert timeline.count("paper_order_opened") == 3 and str(other_customer.pk) not in timeline
    assert NOTE not in html


def test_actions_link_export_erase_and_open_a_merge_request(admin_client, customer):
    html = admin_client.get(page_url(customer)).content.decode()
    assert f"/admin/raxx/customer/{customer.pk}/dsr-export/" in html
    assert f"/admin/raxx/customer/{customer.pk}/dsr-erase/" in html
    assert f"/admin/raxx/customer/{customer.pk}/merge/" in html  # admin:raxx_customer_merge
    from django.urls import NoReverseMatch, reverse
    try:
        reverse("admin:raxx_mergerequest_changelist")
    except NoReverseMatch:  # the merge-request pages are not on this branch: no dead link
        assert "action-merge-requests" not in html
    else:
        assert f"?customer={customer.pk}" in html


def test_post_to_the_customer_page_changes_nothing(admin_client, customer):
    response = admin_client.post(page_url(customer), {"email": "hijack@example.test"})
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.email == "owner@example.test"


def test_viewing_the_page_records_a_read_access_for_that_customer_only(admin_client, customer, other_customer):
    fill(customer, 1)
    admin_client.get(page_url(customer))
    reads = list(ReadAccess.objects.values_list("customer_id", "operator", "page", "path"))
    assert reads == [(customer.pk, "operator:operator", "customer page", page_url(customer))]
    html = admin_client.get(page_url(customer)).content.decode()
    listed = re.search(r'id="cp-reads">(.*?)</table>', html, re.S).group(1)
    assert listed.count('class="read-access"') == 1 and "operator:operator" in listed  # the first view
    assert not ReadAccess.objects.filter(customer=other_customer).exists()
    assert "read-access" not in admin_client.get(page_url(other_customer)).content.decode().split('id="cp-reads"')[1] \
        .split("</table>")[0]  # the other customer's page lists no read of the first's


def test_the_dsr_export_records_and_includes_the_read_accesses(admin_client, customer):
    admin_client.get(page_url(customer))
    response = admin_client.get(f"/admin/raxx/customer/{customer.pk}/dsr-export/")
    assert response.status_code == 200
    tables = {t["model"]: t["rows"] for t in json.loads(response.content)["tables"]}
    pages = sorted(row["page"] for row in tables["console.ReadAccess"])
    assert pages == ["DSR export", "customer page"]
    assert all(set(row) == {"id", "operator", "customer_id", "page", "path", "created_at"}
               for row in tables["console.ReadAccess"])
    assert "console.ReadAccess" in {t["model"] for t in export_customer(customer_id=customer.pk)["tables"]}


def page_queries(client, customer) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(page_url(customer)).status_code == 200
    return len(ctx.captured_queries)


def test_page_query_count_does_not_grow_with_rows(admin_client):
    small, big = make_customer("small@example.test"), make_customer("big@example.test")
    fill(small, 1)
    fill(big, 40)
    for _ in range(25):
        admin_client.get(page_url(big))  # 25 read-access rows to list
    one, many = page_queries(admin_client, small), page_queries(admin_client, big)
    assert one == many <= 18, (one, many)


def test_an_erased_customer_page_writes_nothing_new_about_them(admin_client, customer):
    from raxx.dsr import erase_customer, leftovers

    fill(customer, 1)
    email = customer.email
    erase_customer(customer_id=customer.pk)
    html = admin_client.get(page_url(customer)).content.decode()
    assert "was erased" in html
    assert leftovers(customer_id=customer.pk, email=email) == []


def test_missing_customer_is_a_404(admin_client):
    assert admin_client.get("/admin/raxx/customer/00000000-0000-4000-8000-000000000000/change/").status_code == 404


def test_label_matrix_is_a_heat_map_of_counts_of_this_customer_only(admin_client, customer, other_customer):
    from journal.tests.conftest import make_label, make_order

    for post in ("FollowedPlan", "FollowedPlan", "OverrodeRule"):
        make_label(customer, make_order(customer, exit="101"), pre="Bearish", post=post, note=NOTE)
    for _ in range(5):
        make_label(other_customer, make_order(other_customer, exit="150"), pre="Bearish", post="FollowedPlan")
    html = admin_client.get(page_url(customer)).content.decode()
    heatmap = re.search(r'<svg id="label-heatmap".*?</svg>', html, re.S).group(0)
    assert "<title>Bearish → FollowedPlan: 2 trades</title>" in heatmap
    assert "<title>Bearish → OverrodeRule: 1 trades</title>" in heatmap
    assert "<title>Bullish → no post-trade label: 0 trades</title>" in heatmap
    assert 'fill-opacity="1.0"' in heatmap  # the largest cell is the darkest
    assert NOTE not in html and "1.00" not in heatmap  # counts only: no P&L, no note


def test_no_labels_no_heat_map(admin_client, customer):
    assert 'id="label-heatmap"' not in admin_client.get(page_url(customer)).content.decode()
