"""Black-box acceptance tests for CONTRACTS §0, §1, §2, §6 and §7.

Written the way an outside tester would: only the public surface (HTTP routes,
management commands, settings, the waffle/audit tables named in the contract),
tokens built with PyJWT by hand, no project helpers beyond ``issue_token``.
"""

import io
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jwt
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]
FLAGS = ("FLAG_SENTIMENT_JOURNAL", "FLAG_WCB_ENABLED", "FLAG_BETA_WALKTHROUGH_SELF_SELECT",
         "FLAG_WALKTHROUGH_PERSONA_ROUTING", "FLAG_STRATEGY_TEMPLATES_V2")
KEY = settings.SIMPLE_JWT["SIGNING_KEY"]

pytestmark = pytest.mark.django_db


# --- helpers an outside tester would write -----------------------------------------------------

def issue(*args) -> str:
    out = io.StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def payload(sub=None, **over) -> dict:
    now = int(time.time())
    body = {"sub": str(sub or uuid.uuid4()), "tier": "pro_plus", "exp": now + 600, "iat": now,
            "jti": uuid.uuid4().hex, "token_type": "access"}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


def hs256(body: dict, key=KEY, alg="HS256") -> str:
    return jwt.encode(body, key, algorithm=alg)


def client_with(token: str | None, header: str | None = None) -> APIClient:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    elif token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def get_me(token=None, header=None):
    return client_with(token, header).get("/api/me")


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    assert re.fullmatch(r"[a-z][a-z0-9_]*", body["error"]), body
    if code is not None:
        assert body["error"] == code, body
    return body


def set_flag(name: str, on: bool):
    out = io.StringIO()
    call_command("waffle_flag", name, "--everyone" if on else "--deactivate", stdout=out)


def new_customer(tier="pro_plus", email=None):
    sub = uuid.uuid4()
    args = ["--sub", str(sub), "--tier", tier]
    token = issue(*args)
    client = client_with(token)
    assert client.get("/api/me").status_code == 200  # provisions the row
    return sub, token, client


# --- §1 issue_token ----------------------------------------------------------------------------

def test_issue_token_last_line_is_a_working_token_with_the_contract_claims():
    sub = uuid.uuid4()
    token = issue("--sub", str(sub), "--tier", "pro", "--ttl", "90")
    body = jwt.decode(token, KEY, algorithms=["HS256"])
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert body["sub"] == str(sub) and body["tier"] == "pro" and body["token_type"] == "access"
    assert body["exp"] - body["iat"] == 90 and body["jti"]
    response = get_me(token)
    assert response.status_code == 200 and response.json()["id"] == str(sub) and response.json()["tier"] == "pro"


@pytest.mark.parametrize("tier", ["free", "pro", "pro_plus"])
def test_issue_token_each_tier(tier):
    assert jwt.decode(issue("--sub", str(uuid.uuid4()), "--tier", tier), KEY, algorithms=["HS256"])["tier"] == tier


@pytest.mark.parametrize("args", [["--no-tier"], ["--tier", "pro", "--no-tier"]])
def test_issue_token_no_tier_omits_the_claim(args):
    token = issue("--sub", str(uuid.uuid4()), *args)
    assert "tier" not in jwt.decode(token, KEY, algorithms=["HS256"])
    response = get_me(token)
    assert response.status_code == 200 and response.json()["tier"] is None


def test_issue_token_default_ttl_is_positive():
    body = jwt.decode(issue("--sub", str(uuid.uuid4()), "--tier", "free"), KEY, algorithms=["HS256"])
    assert body["exp"] > time.time()


def test_issue_token_refuses_an_asymmetric_algorithm_in_process():
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    conf = {**settings.SIMPLE_JWT, "ALGORITHM": "RS256", "SIGNING_KEY": "", "VERIFYING_KEY": pem}
    with override_settings(SIMPLE_JWT=conf), pytest.raises(CommandError, match="RS256"):
        call_command("issue_token", "--sub", str(uuid.uuid4()), "--tier", "pro", stdout=io.StringIO())


def test_issue_token_refuses_an_asymmetric_algorithm_from_the_shell():
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "raxx.settings", "JWT_ALGORITHM": "RS256",
           "JWT_VERIFYING_KEY": pem.replace("\n", "\\n")}
    result = subprocess.run([sys.executable, "manage.py", "issue_token", "--sub", str(uuid.uuid4()), "--tier", "pro"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    assert "RS256" in result.stderr and "Traceback" not in result.stderr
    assert not re.search(r"eyJ[\w-]+\.[\w-]+\.", result.stdout)


# --- §1 the 401 matrix -------------------------------------------------------------------------

def test_missing_header_is_401():
    assert_error(get_me(), 401)


@pytest.mark.parametrize("header", ["Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "Bearer  ", "Bearer x y",
                                    "Bearer eyJhbGciOiJIUzI1NiJ9.e30"])
def test_malformed_token_is_401(header):
    assert_error(get_me(header=header), 401)


@pytest.mark.parametrize("ttl", ["-60", "0"])
def test_issue_token_with_a_non_positive_ttl_mints_an_expired_token(ttl):
    err = io.StringIO()
    out = io.StringIO()
    call_command("issue_token", "--sub", str(uuid.uuid4()), "--tier", "pro", "--ttl", ttl, stdout=out, stderr=err)
    assert "expired" in err.getvalue()
    assert_error(get_me(out.getvalue().strip().splitlines()[-1]), 401)


def test_expired_token_is_401():
    assert_error(get_me(hs256(payload(exp=int(time.time()) - 10, iat=int(time.time()) - 100))), 401)


def test_bad_signature_is_401():
    assert_error(get_me(hs256(payload(), key="some-other-key-that-is-long-enough-32")), 401)
    good = hs256(payload())
    head, body, sig = good.split(".")
    tampered = jwt.utils.base64url_encode(json.dumps({**payload(), "tier": "pro_plus"}).encode()).decode()
    assert_error(get_me(f"{head}.{tampered}.{sig}"), 401)


def test_alg_none_is_401():
    token = jwt.encode(payload(), None, algorithm="none")
    assert_error(get_me(token), 401)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_hmac_algorithm_is_401(alg):
    assert_error(get_me(hs256(payload(), alg=alg)), 401)


def test_rs256_token_is_401_when_hs256_is_configured():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_error(get_me(jwt.encode(payload(), private, algorithm="RS256")), 401)


def _hmac_token(body: dict, key: bytes) -> str:
    import hashlib
    import hmac

    def b64(raw: bytes) -> str:
        return jwt.utils.base64url_encode(raw).decode()

    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(body).encode())}"
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def test_rs256_configured_accepts_rs256_and_rejects_hs256():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    conf = {**settings.SIMPLE_JWT, "ALGORITHM": "RS256", "SIGNING_KEY": "", "VERIFYING_KEY": pem}
    with override_settings(SIMPLE_JWT=conf):
        assert get_me(jwt.encode(payload(), private, algorithm="RS256")).status_code == 200
        assert_error(get_me(hs256(payload())), 401)
        # the HS256-with-the-public-key confusion attack
        assert_error(get_me(_hmac_token(payload(), pem.encode())), 401)


def test_wrong_token_type_and_missing_sub_are_401():
    assert_error(get_me(hs256(payload(token_type="refresh"))), 401)
    body = payload()
    del body["sub"]
    assert_error(get_me(hs256(body)), 401)


def test_tombstoned_customer_is_401_after_merge():
    primary, _, _ = new_customer()
    secondary, token, client = new_customer()
    consented_merge_via_api(primary, secondary)
    assert_error(client.get("/api/me"), 401)
    assert_error(get_me(issue("--sub", str(secondary), "--tier", "pro_plus")), 401)  # a fresh token too


def test_erased_customer_is_401():
    sub, token, client = new_customer()
    call_command("dsr_erase", "--user", str(sub), "--yes", stdout=io.StringIO(), stderr=io.StringIO())
    assert_error(client.get("/api/me"), 401)


# --- §1 provisioning and tier ------------------------------------------------------------------

def test_unknown_sub_provisions_the_customer():
    from raxx.models import Customer

    sub = uuid.uuid4()
    assert not Customer.objects.filter(pk=sub).exists()
    response = get_me(hs256(payload(sub, email="new@example.test")))
    assert response.status_code == 200 and response.json()["id"] == str(sub)
    assert Customer.objects.filter(pk=sub).count() == 1
    assert get_me(hs256(payload(sub))).status_code == 200
    assert Customer.objects.filter(pk=sub).count() == 1


@pytest.mark.parametrize("email", [5, ["a@example.test"], "not an email", "a" * 300 + "@example.test"])
def test_a_malformed_email_claim_is_ignored_never_a_500(email):
    from raxx.models import Customer

    sub = uuid.uuid4()
    response = get_me(hs256(payload(sub, email=email)))
    assert response.status_code == 200 and response.json()["email"] is None
    assert Customer.objects.get(pk=sub).email is None


@pytest.mark.parametrize("tier", [["pro"], {"t": "pro"}, 1])
def test_a_malformed_tier_claim_is_no_tier(tier):
    token = hs256(payload(tier=tier))
    assert get_me(token).json()["tier"] is None
    assert_error(client_with(token).get(f"/api/positions/{uuid.uuid4()}/what-could-have-been"), 403,
                 "tier_insufficient")


def test_tier_comes_from_the_token_of_each_request():
    sub = uuid.uuid4()
    assert get_me(issue("--sub", str(sub), "--tier", "pro_plus")).json()["tier"] == "pro_plus"
    assert get_me(issue("--sub", str(sub), "--tier", "free")).json()["tier"] == "free"
    assert get_me(issue("--sub", str(sub), "--tier", "pro")).json()["tier"] == "pro"


@pytest.mark.parametrize("flag_on", [False, True])
@pytest.mark.parametrize("tier", [None, "free", "gold", "PRO"])
def test_wcb_render_is_tier_gated_fail_closed(flag_on, tier):
    set_flag("FLAG_WCB_ENABLED", flag_on)
    token = hs256(payload(tier=tier)) if tier else issue("--sub", str(uuid.uuid4()), "--no-tier")
    response = client_with(token).get(f"/api/positions/{uuid.uuid4()}/what-could-have-been")
    assert_error(response, 403, "tier_insufficient")


def test_pro_tier_passes_the_gate_then_meets_the_flag_and_the_object():
    token = issue("--sub", str(uuid.uuid4()), "--tier", "pro")
    url = f"/api/positions/{uuid.uuid4()}/what-could-have-been"
    set_flag("FLAG_WCB_ENABLED", False)
    assert_error(client_with(token).get(url), 404)
    set_flag("FLAG_WCB_ENABLED", True)
    assert_error(client_with(token).get(url), 404, "position_not_found")


def test_tier_is_never_stored_paid_then_free_on_a_real_position():
    set_flag("FLAG_WCB_ENABLED", True)
    sub, token, client = new_customer("pro_plus")
    created = client.post("/api/trading/close-position", {
        "symbol": "AAPL", "asset_type": "equity", "quantity": "10", "cost_basis": "150.00", "close_price": "155.00",
        "closed_at": "2026-04-15T15:00:00Z"}, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/positions/{created.json()['position_id']}/what-could-have-been"
    assert client.get(url).status_code in (200, 422, 503)
    free = client_with(issue("--sub", str(sub), "--tier", "free"))
    assert_error(free.get(url), 403, "tier_insufficient")
    assert_error(client_with(issue("--sub", str(sub), "--no-tier")).get(url), 403, "tier_insufficient")


# --- §1 issuer / audience ----------------------------------------------------------------------

@pytest.mark.parametrize("field,claim,good,bad", [("ISSUER", "iss", "https://queue.example", "https://evil.example"),
                                                   ("AUDIENCE", "aud", "raxx-api", "someone-else")])
def test_issuer_and_audience_are_enforced_when_set(field, claim, good, bad):
    with override_settings(SIMPLE_JWT={**settings.SIMPLE_JWT, field: good}):
        assert get_me(hs256(payload(**{claim: good}))).status_code == 200
        assert_error(get_me(hs256(payload(**{claim: bad}))), 401)
        assert_error(get_me(hs256(payload())), 401)  # claim missing
        minted = issue("--sub", str(uuid.uuid4()), "--tier", "pro")  # dev tokens carry the configured claim
        assert get_me(minted).status_code == 200
    assert get_me(hs256(payload(**{claim: bad}))).status_code == 200  # not set: not enforced


def test_issuer_and_audience_from_the_environment():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "raxx.settings", "JWT_ISSUER": "https://queue.example",
           "JWT_AUDIENCE": "raxx-api"}
    code = "import django; django.setup(); from django.conf import settings as s; " \
           "print(s.SIMPLE_JWT['ISSUER'], s.SIMPLE_JWT['AUDIENCE'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.split() == ["https://queue.example", "raxx-api"], result.stderr


# --- §0 error format on real routes ------------------------------------------------------------

@pytest.fixture
def authed():
    return new_customer("pro_plus")[2]


def test_405_on_a_real_route(authed):
    assert_error(authed.put("/api/paper-orders", {}, format="json"), 405, "method_not_allowed")
    assert_error(authed.delete("/api/paper-orders"), 405, "method_not_allowed")


def test_415_for_a_non_json_body(authed):
    assert_error(authed.post("/api/paper-orders", "symbol=AAPL", content_type="text/plain"), 415)
    assert_error(authed.post("/api/paper-orders", "a=b", content_type="application/x-www-form-urlencoded"), 415)


def test_400_for_malformed_json_and_for_validation(authed):
    assert_error(authed.post("/api/paper-orders", "{not json", content_type="application/json"), 400)
    body = assert_error(authed.post("/api/paper-orders", {"symbol": "AAPL", "side": "hold", "quantity": "-1",
                                                          "entry_price": "x"}, format="json"), 400, "invalid_request")
    assert isinstance(body["detail"], dict) and all(isinstance(v, list) for v in body["detail"].values())
    assert "side" in body["detail"]


@pytest.mark.parametrize("path", ["/api/does-not-exist", "/api/paper-orders/", "/api/me/", "/api/paper-orders/999999",
                                  "/api/", "/api/schema/"])
def test_404_is_json(authed, path):
    assert_error(authed.get(path), 404)


def test_404_is_json_without_a_token_and_with_debug_on():
    assert_error(Client().get("/api/does-not-exist"), 404)
    with override_settings(DEBUG=True):
        assert_error(Client().get("/api/does-not-exist"), 404)
        assert_error(Client().get("/api/paper-orders/"), 404)


def test_trailing_slash_post_is_404_not_a_redirect(authed):
    response = authed.post("/api/paper-orders/", {"symbol": "AAPL"}, format="json")
    assert_error(response, 404)


def test_401_body_is_the_error_format():
    body = assert_error(Client().get("/api/paper-orders"), 401)
    assert "Traceback" not in json.dumps(body)


# --- §0 schema, docs, healthz ------------------------------------------------------------------

CONTRACT_ROUTES = [
    ("post", "/api/paper-orders"), ("get", "/api/paper-orders"), ("get", "/api/paper-orders/{id}"),
    ("post", "/api/paper-orders/{id}/close"), ("post", "/api/sentiment-labels"),
    ("patch", "/api/sentiment-labels/{id}"), ("get", "/api/sentiment-labels/{id}"),
    ("get", "/api/sentiment-labels/taxonomy"), ("get", "/api/backtest/sentiment-filter"),
    ("post", "/api/trading/close-position"), ("get", "/api/positions/{position_id}/what-could-have-been"),
    ("patch", "/api/account/settings/wcb"),
    *[(m, f"/api/walkthrough{p}") for p in ("/screen/1", "/screen/simple/1", "/screen/2", "/screen/3", "/screen/4",
                                            "/screen/5") for m in ("get", "post")],
    ("post", "/api/walkthrough/screen/1/intent"), ("get", "/api/walkthrough/status"),
]


def _normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/schema")
    assert response.status_code == 200
    text = response.content.decode()
    return response, (json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text))


def test_schema_is_openapi_3_and_json_by_default(schema):
    response, doc = schema
    assert str(doc["openapi"]).startswith("3.")
    assert doc["info"]["title"] and doc["paths"]
    assert "json" in response["Content-Type"]
    assert yaml.safe_load(Client().get("/api/schema?format=yaml").content)["openapi"].startswith("3.")


def test_schema_validates_as_openapi_3(schema):
    from drf_spectacular.validation import validate_schema

    validate_schema(schema[1])  # the OpenAPI 3.0 JSON schema shipped with drf-spectacular


@pytest.mark.parametrize("method,path", CONTRACT_ROUTES)
def test_schema_lists_every_contract_route(schema, method, path):
    paths = {_normalise(p): ops for p, ops in schema[1]["paths"].items()}
    assert _normalise(path) in paths, sorted(paths)
    assert method in paths[_normalise(path)]


def test_schema_uses_the_contract_path_parameter_names(schema):
    paths = schema[1]["paths"]
    for p in ("/api/paper-orders/{id}", "/api/paper-orders/{id}/close", "/api/sentiment-labels/{id}",
              "/api/positions/{position_id}/what-could-have-been"):
        assert p in paths, sorted(paths)


def test_schema_has_no_trailing_slash_routes(schema):
    assert [p for p in schema[1]["paths"] if p.endswith("/")] == []


def test_schema_declares_bearer_auth(schema):
    schemes = schema[1]["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_docs_are_html_without_cdn_and_assets_are_served_locally():
    response = Client().get("/api/docs")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for needle in ("cdn", "jsdelivr", "unpkg", "cloudflare", "googleapis"):
        assert needle not in page.lower(), needle
    assets = set(re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page))
    assets = {a for a in assets if a.endswith((".js", ".css", ".png"))}
    assert assets, page[:500]
    for asset in assets:
        assert not re.match(r"(https?:)?//", asset), asset
        served = Client().get(asset)
        assert served.status_code == 200, asset
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert len(body) > 100, asset
    assert "/api/schema" in page


def test_healthz():
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert "cache" in body and "broker" in body


# --- §2 flags ----------------------------------------------------------------------------------

def test_every_flag_exists_and_is_off_after_migrate():
    from waffle.models import Flag

    from flags.registry import flag_is_on

    rows = {f.name: f for f in Flag.objects.filter(name__in=FLAGS)}
    assert set(rows) == set(FLAGS)
    for flag in rows.values():
        assert not flag.everyone and flag.percent in (None, 0) and not flag.authenticated
        assert not flag.users.exists() and not flag.groups.exists()

    class Req:  # a request of an anonymous caller
        from django.contrib.auth.models import AnonymousUser
        user = AnonymousUser()
        COOKIES = {}
        GET = {}
        META = {}
        path = "/"
        method = "GET"
        waffles = {}
    for name in FLAGS:
        assert flag_is_on(Req(), name) is False


def test_journal_routes_follow_waffle_flag_without_restart(authed):
    from raxx.models import AuditEvent

    url = "/api/sentiment-labels/taxonomy"
    assert_error(authed.get(url), 404)
    assert_error(authed.get(url), 404)  # cached now
    before = AuditEvent.objects.filter(event_type="flag_changed").count()
    set_flag("FLAG_SENTIMENT_JOURNAL", True)
    assert authed.get(url).status_code == 200
    set_flag("FLAG_SENTIMENT_JOURNAL", False)
    assert_error(authed.get(url), 404)
    events = list(AuditEvent.objects.filter(event_type="flag_changed").order_by("id")[before:])
    assert len(events) == 2
    assert all(e.data["flag"] == "FLAG_SENTIMENT_JOURNAL" and e.actor.startswith("cli:") for e in events)
    assert events[0].data["new"]["everyone"] is True and events[1].data["new"]["everyone"] is False


def test_wcb_render_follows_waffle_flag_without_restart():
    token = issue("--sub", str(uuid.uuid4()), "--tier", "pro_plus")
    url = f"/api/positions/{uuid.uuid4()}/what-could-have-been"
    assert_error(client_with(token).get(url), 404)
    set_flag("FLAG_WCB_ENABLED", True)
    assert_error(client_with(token).get(url), 404, "position_not_found")
    set_flag("FLAG_WCB_ENABLED", False)
    body = assert_error(client_with(token).get(url), 404)
    assert body["error"] != "position_not_found"


def test_waffle_flag_percent_and_create_are_audited_too():
    from raxx.models import AuditEvent

    call_command("waffle_flag", "FLAG_STRATEGY_TEMPLATES_V2", "--percent", "30", stdout=io.StringIO())
    event = AuditEvent.objects.filter(event_type="flag_changed").latest("id")
    assert event.data["flag"] == "FLAG_STRATEGY_TEMPLATES_V2" and float(event.data["new"]["percent"]) == 30


def test_flag_change_in_code_is_audited():
    from waffle.models import Flag

    from raxx.models import AuditEvent

    flag = Flag.objects.get(name="FLAG_WALKTHROUGH_PERSONA_ROUTING")
    flag.everyone = True
    flag.save()
    event = AuditEvent.objects.filter(event_type="flag_changed").latest("id")
    assert event.data["flag"] == "FLAG_WALKTHROUGH_PERSONA_ROUTING"
    assert event.data["old"]["everyone"] in (None, False) and event.data["new"]["everyone"] is True


def test_flag_change_in_the_admin_is_audited_with_the_operator(admin_client):
    from waffle.models import Flag

    from raxx.models import AuditEvent

    flag = Flag.objects.get(name="FLAG_BETA_WALKTHROUGH_SELF_SELECT")
    page = admin_client.get(f"/admin/waffle/flag/{flag.pk}/change/")
    assert page.status_code == 200
    form = {"name": flag.name, "everyone": "true", "percent": "", "note": "", "languages": "",
            "superusers": "on", "users": [], "groups": [], "_save": "Save",
            "created_0": "2026-01-01", "created_1": "00:00:00", "modified_0": "2026-01-01", "modified_1": "00:00:00"}
    response = admin_client.post(f"/admin/waffle/flag/{flag.pk}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    event = AuditEvent.objects.filter(event_type="flag_changed").latest("id")
    assert event.data["flag"] == flag.name and event.actor == "operator:operator"
    assert event.data["new"]["everyone"] is True


def test_flag_checks_do_not_cost_a_query_each(authed, django_assert_max_num_queries):
    authed.get("/api/sentiment-labels/taxonomy")
    with django_assert_max_num_queries(0):  # the customer row and the flag come from the request's one cache read
        authed.get("/api/sentiment-labels/taxonomy")


# --- §6 merge_accounts -------------------------------------------------------------------------

def run(name, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def consented_merge_via_api(primary, secondary) -> str:
    """CONTRACTS §9 end to end: support opens a request, each holder confirms it with a step-up
    token, support executes it. Returns the request id."""
    out, _ = run("merge_request", "--primary", str(primary), "--secondary", str(secondary), "--reason", "ticket 42")
    request_id = out.strip().splitlines()[-1]
    for holder in (primary, secondary):
        token = issue("--sub", str(holder), "--tier", "pro_plus", "--amr", "hwk", "--auth-age", "0")
        response = client_with(token).post(f"/api/account/merge-requests/{request_id}/confirm")
        assert response.status_code == 200, response.content
    run("merge_accounts", "--request", request_id, "--yes")
    return request_id


def _journal_order(client) -> int:
    response = client.post("/api/paper-orders", {"symbol": "AAPL", "side": "buy", "quantity": "2",
                                                 "entry_price": "100.00"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["order"]["id"]


def test_merge_dry_run_prints_counts_and_changes_nothing():
    from raxx.models import AuditEvent, Customer

    primary, _, _ = new_customer()
    secondary, _, sclient = new_customer()
    _journal_order(sclient)
    _journal_order(sclient)
    out, _ = run("merge_accounts", "--primary", str(primary), "--secondary", str(secondary), "--dry-run")
    assert re.search(r"paper_orders?\D+2\b", out) or re.search(r"\b2\b", out), out
    assert "dry run" in out.lower()
    assert len(_orders(sclient)) == 2
    assert Customer.objects.get(pk=secondary).tombstoned_at is None
    assert not AuditEvent.objects.filter(event_type="account_merged").exists()


def _orders(client) -> list:
    body = client.get("/api/paper-orders").json()
    return body if isinstance(body, list) else body.get("results", body.get("orders"))


def test_merge_moves_rows_tombstones_and_audits():
    from raxx.models import AuditEvent, Customer

    primary, _, pclient = new_customer()
    secondary, _, sclient = new_customer()
    Customer.objects.filter(pk=secondary).update(email="second@example.test")
    order_id = _journal_order(sclient)
    out, _ = run("merge_accounts", "--primary", str(primary), "--secondary", str(secondary), "--dry-run")
    assert "paper_orders" in out or "journal" in out, out
    request_id = consented_merge_via_api(primary, secondary)
    assert order_id in [o["id"] for o in _orders(pclient)]
    assert pclient.get(f"/api/paper-orders/{order_id}").status_code == 200
    gone = Customer.objects.get(pk=secondary)
    assert gone.tombstoned_at is not None and gone.email is None
    event = AuditEvent.objects.get(event_type="account_merged")
    assert "second@example.test" not in json.dumps(event.data)
    assert event.data["consent"] == "both" and event.data["request_id"] == request_id
    assert_error(sclient.get("/api/me"), 401)


def test_merge_without_yes_and_without_a_terminal_refuses():
    from raxx.models import Customer

    primary, _, _ = new_customer()
    secondary, _, _ = new_customer()
    with pytest.raises(CommandError, match="consent"):  # no request, no break-glass
        run("merge_accounts", "--primary", str(primary), "--secondary", str(secondary), "--yes")
    with pytest.raises(CommandError):  # break-glass still asks for confirmation
        run("merge_accounts", "--primary", str(primary), "--secondary", str(secondary), "--without-consent",
            "--reason", "ticket 9")
    assert Customer.objects.get(pk=secondary).tombstoned_at is None


@pytest.mark.parametrize("case", ["missing_primary", "missing_secondary", "same", "tombstoned_secondary",
                                  "tombstoned_primary", "not_a_uuid"])
def test_merge_refusals_change_nothing(case):
    from raxx.models import AuditEvent, Customer

    a, _, aclient = new_customer()
    b, _, bclient = new_customer()
    c, _, _ = new_customer()
    _journal_order(bclient)
    primary, secondary = {"missing_primary": (uuid.uuid4(), b), "missing_secondary": (a, uuid.uuid4()),
                          "same": (b, b), "tombstoned_secondary": (a, c), "tombstoned_primary": (c, b),
                          "not_a_uuid": ("nope", b)}[case]
    if case.startswith("tombstoned"):
        consented_merge_via_api(a, c)
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError) as info:
        run("merge_accounts", "--primary", str(primary), "--secondary", str(secondary), "--yes",
            "--without-consent", "--reason", "ticket 9")
    assert str(info.value).strip()
    with pytest.raises(CommandError) as info:
        run("merge_request", "--primary", str(primary), "--secondary", str(secondary), "--reason", "ticket 9")
    assert str(info.value).strip()
    assert AuditEvent.objects.count() == events
    assert Customer.objects.get(pk=b).tombstoned_at is None
    assert len(_orders(bclient)) == 1


def test_merge_twice_is_refused():
    primary, _, _ = new_customer()
    secondary, _, _ = new_customer()
    request_id = consented_merge_via_api(primary, secondary)
    with pytest.raises(CommandError, match="(?i)executed"):
        run("merge_accounts", "--request", request_id, "--yes")
    with pytest.raises(CommandError, match="(?i)tombston"):
        run("merge_accounts", "--primary", str(primary), "--secondary", str(secondary), "--yes",
            "--without-consent", "--reason", "ticket 9")


@pytest.mark.postgres_only  # the child process needs a database it can reach: the test database
def test_merge_shell_refusal_exit_code_and_message():
    from django.db import connection

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "raxx.settings_test", "DATABASE_URL": url}
    result = subprocess.run([sys.executable, "manage.py", "merge_accounts", "--primary", str(uuid.uuid4()),
                             "--secondary", str(uuid.uuid4()), "--dry-run"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode != 0 and "Traceback" not in result.stderr and result.stderr.strip()


# --- §6 dsr_export / dsr_erase -----------------------------------------------------------------

def test_dsr_export_to_stdout_is_json_with_the_customers_rows():
    sub, _, client = new_customer()
    order_id = _journal_order(client)
    out, _ = run("dsr_export", "--user", str(sub))
    document = json.loads(out)
    assert str(sub) in out and json.dumps(document)
    assert str(order_id) in out


def test_dsr_export_to_a_file(tmp_path):
    sub, _, client = new_customer()
    _journal_order(client)
    target = tmp_path / "export.json"
    out, _ = run("dsr_export", "--user", str(sub), "--out", str(target))
    assert str(sub) not in out or not out.lstrip().startswith("{")
    assert str(sub) in json.dumps(json.loads(target.read_text()))


def test_dsr_export_unknown_customer_is_refused():
    with pytest.raises(CommandError):
        run("dsr_export", "--user", str(uuid.uuid4()))


def test_dsr_erase_prints_counts_audits_without_pii_and_401s():
    from journal.models import PaperOrder

    from raxx.models import AuditEvent, Customer

    sub, token, client = new_customer()
    Customer.objects.filter(pk=sub).update(email="erase-me@example.test")
    _journal_order(client)
    _journal_order(client)
    out, _ = run("dsr_erase", "--user", str(sub), "--yes")
    assert re.search(r"paper_orders?\D*2", out), out
    assert not PaperOrder.objects.filter(customer_id=sub).exists()
    event = AuditEvent.objects.get(event_type="dsr_erased")
    assert "erase-me@example.test" not in json.dumps(event.data) and "erase-me" not in event.actor
    assert_error(client.get("/api/me"), 401)
    assert_error(get_me(issue("--sub", str(sub), "--tier", "pro")), 401)
    with pytest.raises(CommandError):  # twice: refused, nothing corrupted
        run("dsr_erase", "--user", str(sub), "--yes")


def test_dsr_erase_without_yes_and_without_a_terminal_refuses():
    sub, _, client = new_customer()
    _journal_order(client)
    with pytest.raises(CommandError):
        run("dsr_erase", "--user", str(sub))
    assert len(_orders(client)) == 1


# --- §7 settings -------------------------------------------------------------------------------

def test_env_example_lists_every_contract_setting():
    text = (ROOT / ".env.example").read_text()
    for name in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL",
                 "CELERY_BROKER_URL", "JWT_ALGORITHM", "JWT_SIGNING_KEY", "JWT_VERIFYING_KEY", "JWT_ISSUER",
                 "JWT_AUDIENCE", "BETA_TOKEN_SECRET", "MARKET_DATA_PROVIDER", "MARKET_DATA_FIXTURES_DIR",
                 "ALPACA_API_KEY", "ALPACA_SECRET_KEY", "ALPHA_VANTAGE_API_KEY"):
        assert re.search(rf"^#?\s*{name}=", text, re.M), name


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "BETA_TOKEN_SECRET"])
def test_production_mode_stops_on_each_missing_secret(missing):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JWT_", "BETA_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "raxx.settings", "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "s" * 50,
                "JWT_SIGNING_KEY": "j" * 40, "BETA_TOKEN_SECRET": "b" * 40, "DJANGO_ALLOWED_HOSTS": "x.example"})
    env[missing] = ""
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and missing in result.stderr


def test_development_defaults_start_with_no_environment():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "JWT_", "BETA_", "DATABASE_", "REDIS_", "CELERY_", "MARKET_", "ALPACA_"))}
    env["DJANGO_SETTINGS_MODULE"] = "raxx.settings"
    code = "import django; django.setup(); from django.conf import settings as s; print(s.SIMPLE_JWT['ALGORITHM'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "HS256", result.stderr
