"""Every console page answers: each registered model's list, add (where allowed) and one object's page,
the console's own pages, and no page ever shows journal note text."""

import pytest
from django.contrib import admin
from django.urls import reverse

from conftest import make_customer
from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgress

from .conftest import NOTE, fill

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(db, flags):
    flags.on("FLAG_WCB_ENABLED")
    customer = make_customer("smoke@example.test")
    fill(customer, 2)
    WalkthroughPaperTrade.objects.create(progress=WalkthroughProgress.objects.get(tester_email=customer.email),
                                         underlying="SPY", legs_json="[]")
    return customer


def admin_urls(customer) -> list[str]:
    urls = ["/admin/", "/admin/?all=1", "/admin/flags/registry/", "/admin/walkthrough/walkthroughprogress/funnel/",
            "/admin/walkthrough/walkthroughprogress/invite/", "/admin/console/kill-switch/FLAG_WCB_ENABLED/",
            f"/admin/raxx/customer/{customer.pk}/merge/", f"/admin/raxx/customer/{customer.pk}/dsr-erase/"]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        obj = model._default_manager.first()
        if obj is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    return urls


def test_every_admin_page_answers_and_shows_no_note_text(admin_client, data):
    urls = admin_urls(data)
    assert len(urls) > 60
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code in (200, 403), (url, response.status_code)  # 403: add is not allowed there
        if response.status_code == 200:
            assert NOTE not in response.content.decode(), url
    export = admin_client.get(f"/admin/raxx/customer/{data.pk}/dsr-export/")
    assert export.status_code == 200  # the export is the customer's own data: the note is in it, by design


def test_a_staff_operator_reaches_the_console_pages(staff_client, data):
    for url in ("/admin/", f"/admin/raxx/customer/{data.pk}/change/", "/admin/raxx/auditevent/",
                "/admin/console/readaccess/", "/admin/journal/paperorder/"):
        assert staff_client.get(url).status_code == 200, url
