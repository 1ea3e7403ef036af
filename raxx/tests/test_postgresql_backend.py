"""raxx.postgresql: the per-request health check costs no round trip on a healthy connection, and a
connection the server ended is still replaced before the request uses it.

Requests go through Django's WSGI handler itself (the test client turns the per-request connection
handling off), so what runs is what gunicorn runs: ``request_started`` → ``close_old_connections``
→ the health check before the request's first query.
"""

import io
import json
import time

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper

from raxx.postgresql.base import quiet
from raxx.tests.test_faults import terminate

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def get(path: str) -> tuple[int, dict]:
    status = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO(b""),
               "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO()}
    body = b"".join(WSGIHandler()(environ, lambda s, headers: status.append(s)))
    return int(status[0].split()[0]), json.loads(body)


@pytest.fixture(autouse=True)
def fresh_connection():
    connection.close()  # each test starts its own connection (and its CONN_MAX_AGE)
    yield


@pytest.fixture
def real_checks(monkeypatch):
    """Each real health check (Django's ``SELECT 1``), counted; the check itself still runs."""
    calls = []

    def counted(self):
        calls.append(self.connection.info.backend_pid if self.connection else None)
        return DjangoWrapper.is_usable(self)

    monkeypatch.setattr(type(connections["default"]), "is_usable", counted)
    return calls


def test_the_backend_is_in_use_with_health_checks_on():
    assert type(connections["default"]).__module__ == "raxx.postgresql.base"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True and connection.settings_dict["CONN_MAX_AGE"] > 0


def test_a_healthy_reused_connection_serves_the_next_request_without_a_select_1(real_checks):
    assert get("/healthz")[0] == 200
    pid = connection.connection.info.backend_pid
    for _ in range(3):
        status, body = get("/healthz")
        assert status == 200 and body["database"] is True
    assert connection.connection.info.backend_pid == pid  # the same connection, reused
    assert real_checks == []


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(real_checks):
    status, _ = get("/healthz")
    assert status == 200
    ended = connection.connection.info.backend_pid
    terminate(ended)  # as a restart or idle_session_timeout would: the server sends its error and closes

    status, body = get("/healthz")

    assert status == 200 and body["database"] is True  # not 503: the request never met the dead connection
    assert real_checks == [ended]  # the socket was readable, so Django's SELECT 1 ran, failed, and reconnected
    assert connection.connection.info.backend_pid != ended


def test_a_connection_no_request_reached_for_a_while_gets_the_real_check(real_checks, monkeypatch):
    """Idle connections are what load balancers and NAT tables forget without a word: checked for real."""
    from raxx.postgresql import base

    assert get("/healthz")[0] == 200
    pid = connection.connection.info.backend_pid
    assert get("/healthz")[0] == 200
    assert real_checks == []  # reached a moment ago: trusted when quiet
    monkeypatch.setattr(base, "TRUSTED_FOR_S", 0.05)
    time.sleep(0.1)
    assert get("/healthz")[0] == 200
    assert real_checks == [pid]


def test_an_open_transaction_or_pending_data_is_not_quiet():
    connection.ensure_connection()
    raw = connection.connection
    assert quiet(raw)
    connection.connection.execute("LISTEN raxx_test_quiet")
    with other_session() as other:
        other.execute("NOTIFY raxx_test_quiet")  # arrives on this idle session's socket, unread
    try:
        assert wait_for(lambda: not quiet(raw))  # something waits on the socket: the real check decides
    finally:
        connection.close()
    connection.ensure_connection()
    connection.connection.execute("BEGIN")
    try:
        assert not quiet(connection.connection)
    finally:
        connection.connection.execute("ROLLBACK")


def other_session():
    import psycopg

    s = connection.settings_dict
    return psycopg.connect(host=s["HOST"] or None, port=s["PORT"] or None, user=s["USER"],
                           password=s["PASSWORD"] or None, dbname=s["NAME"], autocommit=True)


def wait_for(condition, seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False
