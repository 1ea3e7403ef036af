"""Sign-in ceremonies: 10 a minute per client address and per username (CONTRACTS §10)."""

import pytest
from django.test import Client, override_settings

from .conftest import SIGNIN_BEGIN, SIGNIN_COMPLETE, post, sign_in

pytestmark = pytest.mark.django_db
REDIS_DOWN = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                          "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}}}


def assert_rate_limited(response):
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) <= 60


def test_the_eleventh_sign_in_a_minute_from_one_address_is_refused(client, db):
    for _ in range(10):
        assert post(client, SIGNIN_BEGIN, {}).status_code == 200
    assert_rate_limited(post(client, SIGNIN_BEGIN, {}))
    # another address is not affected
    assert post(Client(REMOTE_ADDR="10.0.0.2"), SIGNIN_BEGIN, {}).status_code == 200


def test_a_forged_forwarded_for_header_does_not_reset_the_count(client, db):
    for i in range(10):
        assert post(client, SIGNIN_BEGIN, {}, HTTP_X_FORWARDED_FOR=f"10.1.0.{i}").status_code == 200
    assert_rate_limited(post(client, SIGNIN_BEGIN, {}, HTTP_X_FORWARDED_FOR="10.1.0.99"))


def test_one_username_is_limited_across_addresses(db):
    for i in range(10):
        assert post(Client(REMOTE_ADDR=f"10.2.0.{i}"), SIGNIN_BEGIN, {"username": "ada"}).status_code == 200
    assert_rate_limited(post(Client(REMOTE_ADDR="10.2.0.200"), SIGNIN_BEGIN, {"username": "Ada"}))
    assert post(Client(REMOTE_ADDR="10.2.0.201"), SIGNIN_BEGIN, {"username": "grace"}).status_code == 200


def test_completing_counts_against_the_passkeys_owner(enrolled, authenticator):
    """Failed answers for ada's passkey from many addresses: the 11th is refused unread."""
    for i in range(10):
        response = sign_in(Client(REMOTE_ADDR=f"10.3.0.{i}"), authenticator, origin="https://evil.example",
                           REMOTE_ADDR=f"10.3.0.{i}")
        assert response.status_code == 400
    last = Client(REMOTE_ADDR="10.3.0.250")
    assert post(last, SIGNIN_BEGIN, {}).status_code == 200
    assert_rate_limited(post(last, SIGNIN_COMPLETE, {"credential": authenticator.get(
        {"challenge": "AAAA", "rpId": "localhost"}, origin="http://localhost:8000")}))


def test_a_whole_ceremony_counts_once_per_step(client, enrolled, authenticator):
    for _ in range(10):
        assert sign_in(client, authenticator).status_code == 200
        client.logout()
    assert_rate_limited(post(client, SIGNIN_BEGIN, {}))


def test_with_the_cache_down_sign_in_is_served(client, enrolled, authenticator):
    with override_settings(CACHES=REDIS_DOWN):
        for _ in range(12):
            assert post(client, SIGNIN_BEGIN, {}).status_code == 200
        assert sign_in(client, authenticator).status_code == 200
