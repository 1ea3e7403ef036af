"""Plumbing for the topology test: real processes, a broker proxy we can cut, a stand-in Alpaca.

Everything here is started by the test and stopped by PID (each process leads its
own process group, so a prefork worker goes with its pool children). Nothing is
mocked inside the processes under test: they run the production settings against
PostgreSQL, Redis and RabbitMQ; only the market-data vendor is replaced, at the
HTTP layer, by :class:`FakeAlpaca` (which answers slowly on purpose, like a
remote API, so a job lasts long enough to kill a worker in the middle of it).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from datetime import timezone as dt_timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def answers(url: str) -> bool:
    """True when ``url`` answers 2xx (False while the server is still booting)."""
    import requests

    try:
        return requests.get(url, timeout=10).ok
    except requests.RequestException:
        return False


def wait_until(what: str, check, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Process:
    """One child process in its own session; its output goes to a log file."""

    def __init__(self, name: str, argv: list[str], env: dict, logdir: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log = logdir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        out = open(self.log, "ab")
        self.popen = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL, the whole group: what the OOM killer or a lost VM does to a worker."""
        self._signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, grace: float = 10) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.popen.wait(10)

    def _signal(self, sig) -> None:
        try:
            os.killpg(self.popen.pid, sig)  # start_new_session: the group id is the child's pid
        except ProcessLookupError:
            pass


def run_manage(env: dict, *args: str, timeout: float = 60) -> str:
    done = subprocess.run([str(BIN / "python"), "manage.py", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


class TcpProxy:
    """127.0.0.1:<port> → target. ``cut()`` drops every connection and stops listening; ``restore()`` listens again.

    Stands between every process and RabbitMQ, so the test can take "the broker" away
    without touching the shared RabbitMQ service.
    """

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._running = False

    def start(self) -> TcpProxy:
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: the port comes back after cut()
        listener.settimeout(0.2)
        self._listener, self._running = listener, True
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    restore = start

    def _accept(self, listener: socket.socket) -> None:
        while self._running:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()
        listener.close()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                self._close(s)

    def _close(self, s: socket.socket) -> None:
        try:
            s.shutdown(socket.SHUT_RDWR)  # wakes the other pump blocked in recv()
        except OSError:
            pass
        s.close()

    def cut(self) -> None:
        self._running = False
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            self._close(s)
        time.sleep(0.3)  # the accept loop notices and closes the listener

    def stop(self) -> None:
        self.cut()


class FakeAlpaca:
    """Alpaca's market-data HTTP API, as ``wcb.market_data.alpaca`` reads it, with a delay per request.

    Bars: one per NYSE session in the asked range, close = 100 + the session's day of
    month (so any expected value is easy to compute); no corporate actions.
    """

    def __init__(self, delay: float):
        from wcb import calendar as nyse

        self.delay = delay
        self.requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests += 1
                time.sleep(fake.delay)
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if url.path.startswith("/v2/stocks/") and url.path.endswith("/bars"):
                    start, end = date.fromisoformat(query["start"][0]), date.fromisoformat(query["end"][0])
                    bars = [{"t": _midnight_new_york_utc(d), "o": fake.close(d) - 1, "h": fake.close(d) + 1,
                             "l": fake.close(d) - 2, "c": fake.close(d), "v": 1000}
                            for d in nyse.sessions_between(start, end)]
                    body = {"bars": bars, "symbol": url.path.split("/")[3], "next_page_token": None}
                elif url.path == "/v1/corporate-actions":
                    body = {"corporate_actions": {}, "next_page_token": None}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def close(d: date) -> int:
        return 100 + d.day

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _midnight_new_york_utc(d: date) -> str:
    from wcb import calendar as nyse

    moment = datetime.combine(d, dtime(0), tzinfo=nyse.NEW_YORK).astimezone(dt_timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sessions_for_test(now: datetime) -> tuple[date, date]:
    """(the session the positions close in, the session an EOD run at ``now`` targets)."""
    from wcb import calendar as nyse

    target = nyse.last_completed_session(now)
    return nyse.previous_session(target), target


def gunicorn_pids(access_log: Path, since_line: int = 0, path_contains: str = "") -> list[tuple[int, int]]:
    """(worker pid, status) of each access-log line after ``since_line`` (format ``<pid> METHOD PATH STATUS``)."""
    out = []
    lines = access_log.read_text().splitlines() if access_log.exists() else []
    for line in lines[since_line:]:
        parts = line.split()
        if len(parts) == 4 and path_contains in parts[2]:
            out.append((int(parts[0].strip("<>")), int(parts[3])))
    return out


def day_offset(d: date, hours: int) -> str:
    """An ISO-8601 UTC moment ``hours`` after midnight UTC of ``d``."""
    moment = datetime.combine(d, dtime(0), tzinfo=dt_timezone.utc) + timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
