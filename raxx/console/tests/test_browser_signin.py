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
