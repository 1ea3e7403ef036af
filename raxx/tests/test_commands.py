import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]


def issue(*args) -> str:
    out = io.StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def decode(token: str) -> dict:
    return jwt.decode(token, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])


def test_issue_token_prints_a_working_token_as_last_line(db):
    sub = uuid.uuid4()
    token = issue("--sub", str(sub), "--tier", "pro", "--ttl", "120", "--email", "a@example.test")
    payload = decode(token)
    assert payload["sub"] == str(sub) and payload["tier"] == "pro" and payload["token_type"] == "access"
    assert payload["exp"] - payload["iat"] == 120 and payload["jti"] and payload["email"] == "a@example.test"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/me").json() == {"id": str(sub), "email": "a@example.test", "tier": "pro"}


def test_issue_token_no_tier_omits_the_claim():
    assert "tier" not in decode(issue("--sub", str(uuid.uuid4()), "--no-tier"))


@pytest.mark.parametrize("args", [["--sub", "nope", "--tier", "pro"], ["--sub", str(uuid.uuid4()), "--tier", "gold"],
                                  ["--sub", str(uuid.uuid4())], ["--tier", "pro"]])
def test_issue_token_refuses_bad_arguments(args):
    with pytest.raises((CommandError, SystemExit)):
        call_command("issue_token", *args, stdout=io.StringIO(), stderr=io.StringIO())


def _django_setup(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JWT_", "BETA_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "raxx.settings", "DJANGO_SECRET_KEY": "", "JWT_SIGNING_KEY": "",
                "BETA_TOKEN_SECRET": "", **env_overrides})
    return subprocess.run([sys.executable, "-c", "import django; django.setup(); print('started')"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_production_mode_refuses_to_start_without_secrets():
    result = _django_setup({"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0 (production mode)" in result.stderr


def test_production_mode_names_each_missing_secret():
    result = _django_setup({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "s" * 50})
    assert result.returncode != 0 and "JWT_SIGNING_KEY must be set" in result.stderr


def test_production_mode_starts_with_its_secrets():
    result = _django_setup({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "s" * 50, "JWT_SIGNING_KEY": "j" * 40,
                            "BETA_TOKEN_SECRET": "b" * 40})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"


def test_development_mode_starts_with_no_environment():
    result = _django_setup({"DJANGO_DEBUG": "1"})
    assert result.returncode == 0, result.stderr


CONTRACT_SETTINGS = [
    "DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL",
    "JWT_ALGORITHM", "JWT_SIGNING_KEY", "JWT_VERIFYING_KEY", "JWT_ISSUER", "JWT_AUDIENCE", "BETA_TOKEN_SECRET",
    "MARKET_DATA_PROVIDER", "MARKET_DATA_FIXTURES_DIR", "ALPACA_API_KEY", "ALPACA_SECRET_KEY", "ALPHA_VANTAGE_API_KEY",
]


def test_env_example_lists_every_contract_setting():
    text = (ROOT / ".env.example").read_text()
    missing = [name for name in CONTRACT_SETTINGS if f"{name}=" not in text]
    assert missing == []


def test_an_env_file_copied_from_the_example_starts_in_development(tmp_path):
    result = _django_setup({"DJANGO_DEBUG": "1", "DATABASE_URL": "", "JWT_ALGORITHM": "", "MARKET_DATA_PROVIDER": ""})
    assert result.returncode == 0, result.stderr
