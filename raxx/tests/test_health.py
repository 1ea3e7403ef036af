import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_cache_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("status", "database", "cache", "broker")} == {
        "status": "ok", "database": True, "cache": True, "broker": True}
    assert set(body["jobs"]) >= {"wcb: EOD job", "wcb: EOM job", "journal: lock sentiment labels"}


def test_healthz_stays_200_when_cache_and_broker_are_down(client, settings):
    from raxx.celery import app

    settings.CACHES = {"default": {
        "BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}}}
    old_broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = old_broker
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("status", "database", "cache", "broker")} == {
        "status": "ok", "database": True, "cache": False, "broker": False}


def test_healthz_needs_no_token_and_has_no_trailing_slash(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz/").status_code == 404
