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
