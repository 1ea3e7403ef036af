"""gunicorn.conf.py: the request limits, and gunicorn's own error answers in JSON (CONTRACTS §10)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import free_port

BASE_DIR = Path(__file__).resolve().parents[2]



def send(port: int, raw: bytes) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(raw)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "raxx.settings", "WEB_CONCURRENCY": "1",
           "DATABASE_URL": "sqlite:////tmp/raxx-hardening-gunicorn.sqlite3"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                             "raxx.wsgi"], cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_request_line_over_the_limit_is_a_json_414(server):
    status, headers, body = send(server, b"GET /api/me?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert status == 414 and headers["Content-Type"] == "application/json"
    assert body == b'{"error": "request_line_too_large"}'


def test_a_header_over_the_limit_is_a_json_431(server):
    status, headers, body = send(server, b"GET /api/me HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n")
    assert status == 431 and body == b'{"error": "request_headers_too_large"}'


def test_too_many_headers_is_a_json_431(server):
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(120))
    status, _, body = send(server, b"GET /api/me HTTP/1.1\r\nHost: localhost\r\n" + many + b"\r\n")
    assert status == 431 and body == b'{"error": "request_headers_too_large"}'


def test_a_malformed_request_is_a_json_400(server):
    status, headers, body = send(server, b"NOT A REQUEST\r\n\r\n")
    assert status == 400 and headers["Content-Type"] == "application/json" and b"invalid_request" in body


def test_requests_within_the_limits_reach_django(server):
    token = b"Bearer " + b"x" * 4000  # a long (invalid) token: Django answers, not gunicorn
    status, headers, body = send(server, b"GET /api/me?" + b"q" * 4000 + b" HTTP/1.1\r\nHost: localhost\r\n"
                                 b"Authorization: " + token + b"\r\nConnection: close\r\n\r\n")
    assert status == 401 and b"invalid_token" in body and headers["Cache-Control"] == "no-store"
