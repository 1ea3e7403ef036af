"""gunicorn settings for Raxx: `gunicorn -c gunicorn.conf.py raxx.wsgi` (README "Running in production").

Request limits: gunicorn refuses a request line over `limit_request_line` (414), more than
`limit_request_fields` headers or a header over `limit_request_field_size` (431), before
Django sees anything. They sit above anything Django and the API accept (Django has no
URL-length limit of its own; the longest legitimate header is an RS256 JWT of ~1.5 KB),
so only absurd requests meet them. gunicorn writes those answers (and its 400 for a
malformed request) itself, as HTML; the hook at the end makes them JSON like every other
error (CONTRACTS §10).
"""

import json
import os

import gunicorn.util

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))  # sync workers: on 2 cores a third adds nothing
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 2
limit_request_line = 8190  # gunicorn's maximum (0 would mean unlimited)
limit_request_fields = 100
limit_request_field_size = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"

_CODES = {400: "invalid_request", 403: "permission_denied", 414: "request_line_too_large",
          417: "invalid_request", 431: "request_headers_too_large", 500: "server_error", 501: "not_implemented"}


def write_json_error(sock, status_int, reason, mesg):
    """gunicorn.util.write_error, answering JSON (the message, which quotes the request, is left out)."""
    code = _CODES.get(status_int, "invalid_request" if status_int < 500 else "server_error")
    body = json.dumps({"error": code}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Cache-Control: no-store\r\nContent-Length: {len(body)}\r\n\r\n").encode("latin1")
    gunicorn.util.write_nonblock(sock, head + body)


# gunicorn 27.0.1 (pinned) writes its own error pages through gunicorn.util.write_error;
# test_gunicorn_limits starts a server and checks each answer, so an upgrade that moves it fails loudly.
gunicorn.util.write_error = write_json_error
