"""The dashboard and the customer page in a real browser (Debian's chromium through Playwright).

Screenshots at 1400 px wide go to ``var/screenshots/``. The operator is signed in
by the session cookie of a ``force_login``ed client (passkey sign-in has its own
browser test). Skipped with a reason only when chromium is not installed.
"""

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from conftest import make_customer
from raxx.console.models import ReadAccess
from wcb.models import WcbSnapshot

from .conftest import NOTE, fill

CHROMIUM = shutil.which("chromium")
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def browser_page(live_server, client, django_user_model, monkeypatch):
    playwright_sync = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    operator = django_user_model.objects.create_user("browser-op", "op@example.test", is_staff=True,
                                                     is_superuser=True)
    client.force_login(operator)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, timeout=30_000)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                                  "url": live_server.url}])
            page = context.new_page()
            page.set_default_timeout(20_000)
            outside = []
            page.on("request", lambda r: None if r.url.startswith(live_server.url) or r.url.startswith("data:")
                    else outside.append(r.url))
            yield page, live_server.url, outside
        finally:
            browser.close()


def test_dashboard_and_customer_page_in_a_browser(browser_page, flags):
    page, base, outside = browser_page
    flags.on("FLAG_WCB_ENABLED")
    customer = make_customer("browser-customer@example.test")
    fill(customer, 3)
    snapshot = WcbSnapshot.objects.filter(user_id=customer.pk).first()

    page.goto(f"{base}/admin/")
    assert page.locator("#dash-flags").is_visible() and page.locator("#dash-funnel svg").is_visible()
    page.screenshot(path=str(SHOTS / "console-dashboard.png"), full_page=True)

    page.click("#dash-flag-FLAG_WCB_ENABLED a.kill")
    page.screenshot(path=str(SHOTS / "console-kill-switch-confirm.png"), full_page=True)
    page.click("#confirm-kill")
    assert "OFF for everyone" in page.locator("#dash-flag-FLAG_WCB_ENABLED").inner_text()

    page.goto(f"{base}/admin/raxx/customer/{customer.pk}/change/")
    assert page.locator("#cp-identity").is_visible()
    page.screenshot(path=str(SHOTS / "console-customer-page.png"), full_page=True)
    assert NOTE not in page.content()
    assert ReadAccess.objects.filter(customer=customer, page="customer page", operator="operator:browser-op").exists()
    page.reload()
    assert "customer page" in page.locator("#cp-reads").inner_text()

    page.goto(f"{base}/admin/raxx/customer/{customer.pk}/dsr-erase/")
    page.screenshot(path=str(SHOTS / "console-dsr-erase.png"), full_page=True)
    page.goto(f"{base}/admin/raxx/auditevent/")
    page.screenshot(path=str(SHOTS / "console-audit-events.png"), full_page=True)
    first = page.locator("#result_list tbody tr th a").first
    first.click()
    page.screenshot(path=str(SHOTS / "console-audit-event-detail.png"), full_page=True)
    for name, url in [("paper-orders", "/admin/journal/paperorder/"), ("wcb-snapshots", "/admin/wcb/wcbsnapshot/"),
                      ("closed-positions", "/admin/wcb/closedposition/"),
                      ("labels", "/admin/journal/tradesentimentlabel/"),
                      ("funnel", "/admin/walkthrough/walkthroughprogress/funnel/"),
                      ("testers", "/admin/walkthrough/walkthroughprogress/"),
                      ("customers", "/admin/raxx/customer/"),
                      ("read-accesses", "/admin/console/readaccess/"),
                      ("snapshot-detail", f"/admin/wcb/wcbsnapshot/{snapshot.pk}/change/")]:
        page.goto(base + url)
        page.screenshot(path=str(SHOTS / f"console-{name}.png"), full_page=True)
        assert NOTE not in page.content()
    assert outside == []
