"""In a real Chromium: enroll from an invite link, sign out, sign in with the passkey."""

import pytest

from raxx.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_enroll_sign_out_and_sign_in_with_the_passkey(browser_page):
    page = browser_page.page
    browser_page.enroll_operator("ada", passkey_name="Chromium")
    assert page.locator("#user-tools").inner_text().upper().startswith("WELCOME, ADA")
    browser_page.shot("index-after-enrollment")
    (credential,) = browser_page.credentials()
    assert credential["isResidentCredential"] is True

    page.click("#logout-form button")
    page.wait_for_load_state()
    browser_page.shot("signed-out")

    browser_page.goto("/admin/")
    page.wait_for_url("**/admin/login/?next=/admin/")
    assert page.locator("input[type=password]").count() == 0
    browser_page.shot("login")
    page.click("#passkey-signin")
    page.wait_for_url(browser_page.server.url + "/admin/")
    assert page.locator("#site-name").inner_text() == "Raxx operator console"
    assert "ADA" in page.locator("#user-tools").inner_text().upper()
    browser_page.shot("index-after-sign-in")

    page.click("#user-tools a[href='/admin/passkeys/']")
    page.wait_for_url("**/admin/passkeys/")
    assert "Chromium" in page.locator("#my-passkeys").inner_text()
    browser_page.shot("passkeys")

    events = list(AuditEvent.objects.filter(actor="operator:ada").values_list("event_type", flat=True))
    assert sorted(events) == ["operator_passkey_enrolled", "operator_signed_in"]
    assert all(path.stat().st_size > 0 for path in browser_page.shots)


def test_an_used_enrollment_link_shows_a_clear_page(browser_page):
    from raxx.console.operators import operator_invite

    invite = operator_invite(username="grace", actor="test:browser")
    page = browser_page.page
    page.goto(invite.url)
    page.click("#passkey-register")
    page.wait_for_url(browser_page.server.url + "/admin/")
    page.goto(invite.url)
    assert "expired or was already used" in page.locator("#content-main").inner_text()
    browser_page.shot("enroll-link-used")


def test_the_console_tour_signed_in_with_a_passkey(browser_page, flags):
    """Issue 9's tour: enroll, sign out, sign in with the passkey, see the dashboard, flip a kill switch,
    open a customer page (and see the read-access event it wrote), download a DSR export."""
    import json

    from conftest import make_customer
    from raxx.console.models import ReadAccess
    from waffle.models import Flag

    from .conftest import NOTE, fill

    page = browser_page.page
    flags.on("FLAG_WCB_ENABLED")
    customer = make_customer("tour-customer@example.test")
    fill(customer, 2)
    browser_page.enroll_operator("grace", passkey_name="Chromium")
    page.click("#logout-form button")
    page.wait_for_load_state()
    browser_page.goto("/admin/")
    page.wait_for_url("**/admin/login/?next=/admin/")
    page.click("#passkey-signin")
    page.wait_for_url(browser_page.server.url + "/admin/")
    assert page.locator("#dash-flags").is_visible() and page.locator("#dash-jobs").count() == 1
    browser_page.shot("dashboard")

    page.click("#dash-flag-FLAG_WCB_ENABLED a.kill")
    browser_page.shot("kill-switch-confirm")
    page.click("#confirm-kill")
    assert "OFF for everyone" in page.locator("#dash-flag-FLAG_WCB_ENABLED").inner_text()
    assert Flag.objects.get(name="FLAG_WCB_ENABLED").everyone is False
    assert AuditEvent.objects.filter(event_type="flag_changed", actor="operator:grace").exists()

    browser_page.goto(f"/admin/raxx/customer/{customer.pk}/change/")
    assert page.locator("#cp-identity").is_visible() and NOTE not in page.content()
    browser_page.shot("customer-page")
    assert ReadAccess.objects.filter(customer=customer, operator="operator:grace", page="customer page").exists()
    page.reload()
    assert "customer page" in page.locator("#cp-reads").inner_text()

    with page.expect_download() as download:
        page.click("#action-export")
    export = json.loads(open(download.value.path()).read())
    assert str(customer.pk) in json.dumps(export)
    browser_page.shot("after-export")
    assert browser_page.external_requests == []
