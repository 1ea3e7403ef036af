"""Sentry (CONTRACTS §11, issue 13 item 4): off unless SENTRY_DSN; the scrubber on a crafted event."""

import json
import os
import subprocess
import sys
from pathlib import Path

from raxx.redact import FILTERED
from raxx.sentry import before_send
from raxx.tokens import issue_dev_token

ROOT = Path(__file__).resolve().parents[2]
NOTE = "I was scared and sold too early 5d2e"


def crafted_event(token: str) -> dict:
    return {
        "message": f"login failed for someone@example.test with Bearer {token}",
        "request": {
            "url": "https://raxx.example.com/api/sentiment-labels/7",
            "method": "PATCH",
            "headers": {"Authorization": f"Bearer {token}", "Cookie": "sessionid=abc123; csrftoken=xyz",
                        "User-Agent": "curl/8", "Idempotency-Key": "k-1"},
            "cookies": {"sessionid": "abc123"},
            "data": {"journal_note": NOTE, "post_label": "Impulsive"},
            "query_string": f"token={token}",
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "user": {"email": "someone@example.test", "ip_address": "203.0.113.9"},
        "extra": {"journal_note": NOTE, "customer_email": "someone@example.test", "rows": 3},
        "breadcrumbs": {"values": [{"category": "query", "message": f"walkthrough token wt1.abcdefghijklmnop used"}]},
        "exception": {"values": [{
            "type": "ValueError", "value": f"cannot decode {token}",
            "stacktrace": {"frames": [{"function": "patch", "vars": {"note": NOTE, "token": token, "x": 1}}]}}]},
    }


def test_the_scrubber_removes_tokens_headers_cookies_bodies_notes_and_emails():
    token = issue_dev_token(sub="11111111-1111-4111-8111-111111111111", tier="pro_plus", ttl_seconds=60)
    event = before_send(crafted_event(token), {})
    text = json.dumps(event)
    for secret in (token, NOTE, "someone@example.test", "abc123", "xyz", "wt1.abcdefghijklmnop", "203.0.113.9"):
        assert secret not in text, secret
    headers = event["request"]["headers"]
    assert headers["Authorization"] == FILTERED and headers["Cookie"] == FILTERED
    assert headers["User-Agent"] == "curl/8"  # what is harmless stays useful
    assert "cookies" not in event["request"] and event["request"]["data"] == FILTERED
    assert "user" not in event
    assert "vars" not in event["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert event["exception"]["values"][0]["type"] == "ValueError"
    assert event["extra"]["rows"] == 3


def test_headers_as_pairs_are_scrubbed_too():
    event = before_send({"request": {"headers": [["Authorization", "Bearer abcdefghijkl"], ["Accept", "*/*"]]}})
    assert event["request"]["headers"] == [["Authorization", FILTERED], ["Accept", "*/*"]]


def _sentry_state(dsn: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
    env["DJANGO_SETTINGS_MODULE"] = "raxx.settings"
    if dsn:
        env["SENTRY_DSN"] = dsn
    code = ("import django, json, sentry_sdk; django.setup(); c = sentry_sdk.get_client();"
            "o = c.options if c.is_active() else {};"
            "print(json.dumps({'active': c.is_active(), 'pii': o.get('send_default_pii'),"
            "'locals': o.get('include_local_variables'),"
            "'before_send': getattr(o.get('before_send'), '__module__', None),"
            "'integrations': sorted(type(i).__name__ for i in c.integrations.values()) if c.is_active() else []}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_sentry_is_off_without_a_dsn_and_scrubbed_with_one():
    assert _sentry_state(None)["active"] is False
    state = _sentry_state("http://public@127.0.0.1:9/1")  # nothing is sent: no event is captured
    assert state["active"] is True and state["pii"] is False and state["locals"] is False
    assert state["before_send"] == "raxx.sentry"
    assert {"DjangoIntegration", "CeleryIntegration"} <= set(state["integrations"])
