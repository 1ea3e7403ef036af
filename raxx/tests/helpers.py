import base64
import json
import time
import uuid

import jwt
from django.conf import settings

PROBE_URLS = "raxx.tests.probe_urls"


def claims(**overrides) -> dict:
    now = int(time.time())
    base = {"sub": str(uuid.uuid4()), "tier": "pro", "exp": now + 300, "iat": now,
            "jti": uuid.uuid4().hex, "token_type": "access"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict, *, key: str | bytes | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key if key is not None else settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)


def unsigned(payload: dict) -> str:
    """An ``alg: none`` token."""
    def b64(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def bearer(client, token: str):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def free_port() -> int:
    """A local port nothing listens on (bound, then closed again): a dead Redis/broker, or a server's port."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dead_redis_caches() -> dict:
    """CACHES pointing at a Redis port nothing listens on, with the project's fail-open options."""
    return {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{free_port()}/5",
                        "KEY_PREFIX": "raxx-dead", "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2,
                                                               "SOCKET_TIMEOUT": 0.2}}}


def step_up_token(customer, *, tier: str | None = "pro_plus", amr=("hwk",), auth_age: int = 0) -> str:
    """A Queue step-up token: ``auth_time`` ``auth_age`` seconds ago, ``amr`` as given (CONTRACTS §9)."""
    from raxx.tokens import issue_dev_token

    return issue_dev_token(sub=customer.pk, tier=tier, amr=list(amr), auth_age_seconds=auth_age)


def confirmed_request(primary, secondary, *, reason: str = "both holders asked", actor: str | None = None):
    """A merge request both holders confirmed (as with a step-up token), without the HTTP round trips."""
    from raxx.merge_requests import confirm_merge_request, open_merge_request

    request = open_merge_request(primary_id=primary.pk, secondary_id=secondary.pk, reason=reason, actor=actor)
    for holder in (primary, secondary):
        confirm_merge_request(customer=holder, request_id=request.pk, stepped_up=True)
    request.refresh_from_db()
    return request


def consented_merge(primary, secondary, *, actor: str | None = None, **kwargs):
    """The consent path of CONTRACTS §9 for engine tests: open, both confirm, execute (the API path has
    its own black-box tests in test_merge_requests.py)."""
    from raxx.merge_requests import execute_merge_request

    return execute_merge_request(request_id=confirmed_request(primary, secondary).pk, actor=actor, **kwargs)


def clear_cache() -> None:
    """Empty this test process's cache: on Redis only its own keys (its KEY_PREFIX, one per pytest-xdist
    worker), never the whole db another worker is using at the same moment."""
    from django.core.cache import cache

    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


def redis_writes(monkeypatch) -> list[int]:
    """Every write to Redis from now on, as the number of commands it carried (several for a
    pipeline or ``raxx.redis_io.round_trip``, one for a single command). A spy: the commands run."""
    import hiredis
    from redis.connection import Connection

    writes: list[int] = []
    send = Connection.send_packed_command

    def spy(self, command, check_health=True):
        reader = hiredis.Reader()
        reader.feed(command if isinstance(command, bytes | bytearray) else b"".join(bytes(c) for c in command))
        writes.append(sum(1 for _ in iter(reader.gets, False)))
        return send(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", spy)
    return writes


def sent_statements(sql: str) -> list[tuple[str, bool]]:
    """A captured query's statements, each with whether it was planned without nested loops
    (``raxx.sql.without_nested_loops`` wraps statements in its settings, in the same query).
    Split as Django splits SQL scripts (sqlparse), so a ``;`` inside a string literal stays put."""
    import sqlparse

    from raxx.sql import NO_NESTED_LOOPS

    head, tail = (part.strip("; ") for part in NO_NESTED_LOOPS)
    found, planned_without = [], False
    for statement in sqlparse.split(sql):
        statement = statement.removesuffix(";")
        if statement == head:
            planned_without = True
        elif statement == tail:
            planned_without = False
        else:
            found.append((statement, planned_without))
    return found
