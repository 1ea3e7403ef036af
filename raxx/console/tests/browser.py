"""The real-browser harness: Debian's Chromium driven by Playwright, against a live server.

Fixtures (imported by ``raxx/console/tests/conftest.py``; elsewhere import them from here):

- ``console_server``: the project served on 127.0.0.1, an ephemeral port, for this test;
  ``.url`` is ``http://localhost:<port>`` (WebAuthn refuses an IP address as RP id) and
  ``WEBAUTHN_ORIGIN`` follows it. Transactional, with the migrated data restored after.
- ``browser_page``: a :class:`ConsoleBrowser`: a Chromium page with a CDP virtual
  authenticator (ctap2, internal, resident keys, user verification), every request
  outside 127.0.0.1/localhost aborted and asserted absent at teardown, ``shot(name)``
  writing ``var/screenshots/<test>-<n>-<name>.png``, and ``enroll_operator()`` that
  invites an operator and registers a passkey through the enrollment page.

Skipped (with the reason) only when no ``chromium`` is on PATH. Never downloads a browser.
"""

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connections

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
    # Belt and braces for the no-network assertion: the browser resolves no other host name.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
TIMEOUT_MS = 20_000


@dataclass
class ConsoleServer:
    url: str
    port: int


@pytest.fixture
def console_server(django_db_serialized_rollback, transactional_db, settings):
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1:0")
    try:
        port = server.thread.port
        settings.WEBAUTHN_RP_ID = "localhost"
        settings.WEBAUTHN_ORIGIN = f"http://localhost:{port}"
        yield ConsoleServer(url=f"http://localhost:{port}", port=port)
    finally:
        server.stop()


@dataclass
class ConsoleBrowser:
    page: object
    server: ConsoleServer
    cdp: object
    authenticator_id: str
    name: str
    external_requests: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def goto(self, path: str):
        return self.page.goto(self.server.url + path)

    def shot(self, label: str) -> Path:
        path = SCREENSHOTS / f"{self.name}-{len(self.shots) + 1:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    def credentials(self) -> list[dict]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})["credentials"]

    def enroll_operator(self, username: str = "ada", *, superuser: bool = True, passkey_name: str = "Chromium",
                        screenshot: bool = True):
        """Invite ``username`` and register a passkey on the enrollment page; ends signed in on the index."""
        from raxx.console.operators import operator_invite

        invite = operator_invite(username=username, superuser=superuser, actor="test:browser")
        self.page.goto(invite.url)
        if screenshot:
            self.shot("enroll")
        self.page.fill("#passkey-name", passkey_name)
        self.page.click("#passkey-register")
        self.page.wait_for_url(self.server.url + "/admin/")
        return invite.user


def _chromium() -> str:
    path = shutil.which("chromium")
    if not path:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    return path


@pytest.fixture
def browser_page(request, console_server, monkeypatch):
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; Django would refuse
    # the test's own ORM calls (invites, assertions) as "async unsafe". They are not async.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w-]+", "_", request.node.name)[:80]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True,
                                             timeout=TIMEOUT_MS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            external: list[str] = []

            def guard(route):
                if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
                    route.continue_()
                else:
                    external.append(route.request.url)
                    route.abort()

            context.route("**/*", guard)
            context.on("request", lambda req: external.append(req.url)
                       if urlsplit(req.url).scheme in ("http", "https", "ws", "wss")
                       and urlsplit(req.url).hostname not in LOCAL_HOSTS else None)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("WebAuthn.enable", {"enableUI": False})
            authenticator_id = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
            }})["authenticatorId"]
            harness = ConsoleBrowser(page=page, server=console_server, cdp=cdp, authenticator_id=authenticator_id,
                                     name=name, external_requests=external)
            yield harness
            # The test's ORM calls ran while Playwright's loop was running and got a connection of
            # their own: close it here, or PostgreSQL refuses to drop the test database at the end.
            connections.close_all()
            assert not sorted(set(external)), f"requests left 127.0.0.1/localhost: {sorted(set(external))}"
        finally:
            browser.close()
