"""CONTRACTS §10 / issue 11: no 500 from any input, JSON everywhere under /api and /healthz,
production refuses weak secrets and sets its security headers."""

import json
import logging
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import make_customer
from raxx.models import Customer

from .helpers import claims, sign

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parents[2]
SURROGATE, NUL = "x\ud800", "x\x00y"


def raw_json(value) -> str:
    """JSON text that keeps a lone surrogate as the escape a client sends (json.dumps would too)."""
    return json.dumps(value)


def post_json(client, path, value, method="post"):
    return getattr(client, method)(path, raw_json(value), content_type="application/json")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code
    return body


# --- 413: a body over DATA_UPLOAD_MAX_MEMORY_SIZE -------------------------------------

@pytest.mark.parametrize("path", ["/api/paper-orders", "/api/walkthrough/screen/2", "/api/trading/close-position",
                                  "/healthz", "/admin/login/", "/api/no-such-route"])
def test_a_body_over_the_upload_limit_is_413_on_every_route(api, path):
    body = '{"symbol": "' + "A" * (1024 * 1024) + '"}'
    assert_error(api.generic("POST", path, body, content_type="application/json"), 413, "request_too_large")


def test_the_upload_limit_is_the_setting(api, settings, flags):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    small = {"symbol": "AAPL", "side": "buy", "quantity": "1", "entry_price": "10"}
    assert api.post("/api/paper-orders", small, format="json").status_code == 201
    assert_error(api.post("/api/paper-orders", {**small, "strategy_type": "x" * 100}, format="json"),
                 413, "request_too_large")


# --- NUL and lone surrogates: 400, never stored, never logged -------------------------

def _walkthrough_client(email="tester@example.test"):
    from walkthrough.services import program_get_or_create, walkthrough_invite

    program = program_get_or_create(name="cohort-h", ends_on=timezone.now().date() + timedelta(days=30))
    result = walkthrough_invite(email=email, program=program)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {result.token}")
    return client, result.progress


@pytest.mark.parametrize("text", [SURROGATE, NUL], ids=["lone-surrogate", "nul"])
def test_unstorable_text_in_customer_bodies_is_400(api, flags, text, caplog):
    flags.on("FLAG_SENTIMENT_JOURNAL")
    order = {"symbol": "AAPL", "side": "buy", "quantity": "1", "entry_price": "10"}
    caplog.set_level(logging.DEBUG)
    assert_error(post_json(api, "/api/paper-orders", {**order, "strategy_type": text}), 400, "invalid_request")
    assert_error(post_json(api, "/api/paper-orders", {**order, "pre_label": text}), 400, "invalid_request")
    assert_error(post_json(api, "/api/paper-orders", {**order, text: "1"}), 400, "invalid_request")  # a key
    created = api.post("/api/paper-orders", {**order, "pre_label": "Bullish"}, format="json").json()
    label_id = created["sentiment_label"]["id"]
    assert_error(post_json(api, f"/api/sentiment-labels/{label_id}", {"journal_note": text}, method="patch"),
                 400, "invalid_request")
    assert_error(post_json(api, "/api/trading/close-position", {
        "symbol": text, "asset_type": "equity", "quantity": "1", "cost_basis": "1", "close_price": "2"}),
        400, "invalid_request")
    assert_error(api.get("/api/backtest/sentiment-filter", {"strategy_type": "a\x00b"}), 400, "invalid_request")
    assert "x\ud800" not in caplog.text and "x\x00y" not in caplog.text


@pytest.mark.parametrize("text", [SURROGATE, NUL], ids=["lone-surrogate", "nul"])
def test_unstorable_text_in_walkthrough_answers_is_400_and_not_logged(flags, text, caplog):
    client, progress = _walkthrough_client()
    caplog.set_level(logging.DEBUG)
    assert_error(post_json(client, "/api/walkthrough/screen/1", {"answers": {"experience": text}}), 400,
                 "invalid_request")
    assert_error(post_json(client, "/api/walkthrough/screen/1", {"answers": {"experience": "1_to_3"},
                                                                 "intent_bucket": text}), 400, "invalid_request")
    assert_error(post_json(client, "/api/walkthrough/screen/5", {"answers": {"comment": text}}), 400,
                 "invalid_request")
    assert_error(post_json(client, "/api/walkthrough/screen/5", [text]), 400, "invalid_request")
    # Form-encoded bodies (the walkthrough reads them too): NUL is refused there as well.
    assert_error(client.post("/api/walkthrough/screen/4", "note=a%00b",
                             content_type="application/x-www-form-urlencoded"), 400, "invalid_request")
    progress.refresh_from_db()
    assert progress.screen_completed_max == 0
    assert text not in caplog.text and "\\ud800" not in caplog.text


def test_a_value_the_database_refuses_is_a_400_that_does_not_echo_it(caplog):
    """The net behind the parsers: a DataError (PostgreSQL quotes the refused value in its
    message) is a 400, and the log names the error class only."""
    from django.db import DataError

    from raxx.errors import api_exception_handler

    caplog.set_level(logging.DEBUG)
    response = api_exception_handler(DataError('invalid input syntax for type json: "secret\\ud800"'), {})
    assert response.status_code == 400 and response.data["error"] == "invalid_request"
    assert "secret" not in caplog.text


# --- JWT time claims past year 9999 ---------------------------------------------------

@pytest.mark.parametrize("exp", [253402300800, 10**20, 1e20, 2**63], ids=["year-10000", "1e20-int", "1e20-float",
                                                                           "2^63"])
def test_a_signed_token_with_an_absurd_exp_is_401(exp):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {sign(claims(exp=exp))}")
    assert_error(client.get("/api/me"), 401, "invalid_token")
    assert not Customer.objects.exists()


# --- JSON everywhere under /api and /healthz ------------------------------------------

@pytest.mark.parametrize("debug", [False, True])
def test_api_without_a_slash_is_a_json_404(client, settings, debug):
    settings.DEBUG = debug
    assert_error(client.get("/api"), 404, "not_found")


@pytest.mark.schema_unchecked  # a Host header outside the schema: the answer is still the Error shape
@pytest.mark.parametrize("path", ["/healthz", "/api/me", "/api"])
def test_a_bad_host_is_a_json_400(client, path):
    assert_error(client.get(path, HTTP_HOST="evil.example"), 400, "invalid_request")


@pytest.mark.schema_unchecked
def test_a_bad_host_is_json_also_behind_the_ssl_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert_error(client.get("/healthz", HTTP_HOST="evil.example"), 400, "invalid_request")


@pytest.mark.parametrize("path,status", [("/api/me", 200), ("/api/schema", 200), ("/api/paper-orders/999", 404),
                                         ("/api/nowhere", 404)])
def test_every_api_response_is_no_store(api, path, status):
    response = api.get(path)
    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"
    assert APIClient().get("/api/me")["Cache-Control"] == "no-store"  # 401 too


# --- Production settings ----------------------------------------------------------------

STRONG = "s" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz"  # 56 characters, many distinct


def production_env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JWT_", "BETA_", "REDIS_", "THROTTLE"))}
    env.update({"DJANGO_SETTINGS_MODULE": "raxx.settings", "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": STRONG,
                "JWT_SIGNING_KEY": STRONG[::-1], "BETA_TOKEN_SECRET": STRONG.upper(),
                "DJANGO_ALLOWED_HOSTS": "raxx.example", "DATABASE_URL": "sqlite:////tmp/raxx-hardening-check.sqlite3",
                "DJANGO_STATIC_ROOT": "/tmp/raxx-hardening-static"})
    env.update(overrides)
    return env


def run_manage(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "BETA_TOKEN_SECRET"])
def test_production_refuses_a_short_secret(name):
    result = run_manage("check", env=production_env(**{name: "x" * 31}))
    assert result.returncode != 0
    assert f"{name} is too weak" in result.stderr and "at least 32 characters" in result.stderr


def test_production_refuses_the_development_default():
    result = run_manage("check", env=production_env(DJANGO_SECRET_KEY="dev-insecure-secret-key-change-me"))
    assert result.returncode != 0 and "DJANGO_SECRET_KEY is too weak" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_sets_hsts_ssl_redirect_and_secure_cookies():
    probe = ("from django.conf import settings as s; import json; print(json.dumps([s.SECURE_HSTS_SECONDS, "
             "s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER, "
             "s.SESSION_COOKIE_AGE]))")
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + probe], cwd=BASE_DIR,
                         env=production_env(), capture_output=True, text=True, timeout=60)
    hsts, redirect, session_secure, csrf_secure, proxy_header, age = json.loads(out.stdout.strip().splitlines()[-1])
    assert hsts >= 31536000 and redirect and session_secure and csrf_secure and age == 8 * 3600
    assert proxy_header is None  # only trusted when a setting says a proxy sets it
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + probe], cwd=BASE_DIR,
                         env=production_env(DJANGO_BEHIND_TLS_PROXY="1", OPERATOR_SESSION_AGE_S="3600"),
                         capture_output=True, text=True, timeout=60)
    *_, proxy_header, age = json.loads(out.stdout.strip().splitlines()[-1])
    assert proxy_header == ["HTTP_X_FORWARDED_PROTO", "https"] and age == 3600


@pytest.mark.schema_unchecked  # plain HTTP in production: a JSON redirect, outside the schema's https server
def test_production_redirects_to_https_with_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS = True, 31536000
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    response = client.get("/api/me")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200  # load-balancer probes
    assert client.get("/api/me", secure=True)["Strict-Transport-Security"].startswith("max-age=31536000")


# --- Content-Security-Policy on the console and the docs ------------------------------

def inline_scripts(html: str) -> list[str]:
    """<script> elements that would run inline code without a nonce (JSON data blocks do not run)."""
    found = []
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S | re.I):
        if "src=" in attrs or "nonce=" in attrs or 'type="application/json"' in attrs or not body.strip():
            continue
        found.append(body.strip()[:80])
    return found


def test_the_docs_have_a_csp_and_no_inline_script(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    html = response.content.decode()
    assert inline_scripts(html) == []
    script = re.search(r'<script src="(/api/docs\?[^"]*)"', html).group(1)
    init = client.get(script)
    assert init.status_code == 200 and init["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in init.content
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


@pytest.mark.parametrize("path", ["/admin/", "/admin/raxx/customer/", "/admin/waffle/flag/",
                                  "/admin/raxx/auditevent/"])
def test_console_pages_have_a_csp_and_no_inline_script(admin_client, path):
    make_customer()
    response = admin_client.get(path)
    assert response.status_code == 200, path
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert inline_scripts(response.content.decode()) == []


def test_the_console_sign_in_page_has_a_csp(client):
    response = client.get("/admin/login/")
    assert "Content-Security-Policy" in response
    assert inline_scripts(response.content.decode()) == []


def test_operator_sessions_last_the_configured_age(admin_client, settings):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    before = time.time()
    session = admin_client.session
    assert session.get_expiry_age() == 8 * 3600
    assert session.get_expiry_date().timestamp() <= before + 8 * 3600 + 5


def test_an_unrecognised_intent_is_logged_without_its_text(flags, caplog):
    flags.on("FLAG_WALKTHROUGH_PERSONA_ROUTING")
    client, _ = _walkthrough_client()
    caplog.set_level(logging.DEBUG)
    response = post_json(client, "/api/walkthrough/screen/1", {"answers": {"experience": "1_to_3"},
                                                               "intent_bucket": "my-secret-plan"})
    assert response.status_code == 200
    assert "not recognised" in caplog.text and "my-secret-plan" not in caplog.text
