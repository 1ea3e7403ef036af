"""``make bench-load``: gunicorn under a bounded HTTP load, per route, against a plain Django view.

What it starts (all stopped by PID at the end): a scratch PostgreSQL database
(created, migrated, seeded with ``seed_demo`` and the caller's book grown to 1,000 labelled
trades, the sentiment filter's goal; dropped), gunicorn with 2 sync
workers in production mode (``DJANGO_DEBUG=0``, 48-character secrets) on a free
loopback port, Redis as the cache (``REDIS_URL``, default db 9... pass your own).
Then wrk (Debian's package) runs each route for ``LOAD_SECONDS`` with
``LOAD_CONNECTIONS`` connections, one route after another in the same run, then all
routes mixed. The plain view (``bench/plain``: a ``JsonResponse``, no auth, no
database) is the baseline: each route's req/s and p50 are given as a ratio to it. Two
floors, what any Django view of this design pays: the plain view plus the one Redis round trip
of an authenticated request (``bench/plain-round-trip``, as in ``make bench``), and the sentiment
filter's (``bench/filter-floor``: the in-process bench's raw SQL for the same caller in a plain
view, its rows as JSON). The mixed run leaves them out.

wrk runs on the same 2 cores as gunicorn, PostgreSQL and Redis: it competes for
them, so absolute figures are a floor, and ratios in one run are what compare.

Environment: ``DATABASE_URL`` (a PostgreSQL server; the database name is ignored,
a scratch one is used), ``REDIS_URL``, ``LOAD_SECONDS`` (default 5),
``LOAD_CONNECTIONS`` (default 4).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from raxx.tests.topology import Process, answers, free_port, wait_until  # noqa: E402

BIN = ROOT / ".venv" / "bin"
PLAIN = "plain Django JSON view (baseline)"
FILTER_FLOOR = "the filter's floor: its raw SQL in a plain view"
ME_FLOOR = "the request path's floor: plain view + 1 Redis round trip"
FLOORS = (FILTER_FLOOR, ME_FLOOR)
DEMO_PRO_PLUS = "11111111-1111-4111-8111-111111111111"  # seed_demo's pro_plus customer: the routes' caller
FILTER_BOOK = 1_000  # their labelled trades (seed_demo's, then bench_journal's filler)


def routes(tokens: dict, position_id: str) -> list[tuple[str, str, str, dict, str | None]]:
    """(name, method, path, headers, body) of the mixed workload."""
    pro = {"Authorization": f"Bearer {tokens['pro_plus']}"}
    wt = {"Authorization": f"Bearer {tokens['walkthrough']}"}
    order = json.dumps({"symbol": "AAPL", "side": "buy", "quantity": "1", "entry_price": "190.5", "pre_label": "Bullish"})
    return [
        (PLAIN, "GET", "/bench/plain", {}, None),
        (ME_FLOOR, "GET", "/bench/plain-round-trip", {}, None),
        ("GET /api/me", "GET", "/api/me", pro, None),
        ("GET /api/paper-orders", "GET", "/api/paper-orders", pro, None),
        ("GET sentiment filter", "GET", "/api/backtest/sentiment-filter?pre_label=Bullish", pro, None),
        (FILTER_FLOOR, "GET", f"/bench/filter-floor/{DEMO_PRO_PLUS}", {}, None),
        ("GET WCB render", "GET", f"/api/positions/{position_id}/what-could-have-been", pro, None),
        ("GET walkthrough status", "GET", "/api/walkthrough/status", wt, None),
        ("POST /api/paper-orders", "POST", "/api/paper-orders", {**pro, "Content-Type": "application/json"}, order),
    ]


def lua_for(requests_: list[tuple]) -> str:
    """A wrk script cycling through the given requests (one request: always that one)."""
    items = []
    for _, method, path, headers, body in requests_:
        hdrs = "{" + ", ".join(f'["{k}"] = {json.dumps(v)}' for k, v in headers.items()) + "}"
        items.append(f"wrk.format({json.dumps(method)}, {json.dumps(path)}, {hdrs}, "
                     f"{json.dumps(body) if body else 'nil'})")
    return ("local reqs = {" + ", ".join(items) + "}\nlocal i = 0\n"
            "request = function()\n  i = i % #reqs + 1\n  return reqs[i]\nend\n")


def parse_wrk(text: str) -> dict:
    """req/s, p50 and p99 (ms) and errors (non-2xx/3xx + socket errors) from ``wrk --latency`` output."""
    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(g) for g in sock.groups()) if sock else 0)
    return {"rps": float(rps.group(1)) if rps else 0.0, "requests": int(total.group(1)) if total else 0,
            "p50_ms": ms("50"), "p99_ms": ms("99"), "errors": errors}


def _psql_admin(dsn: dict, sql: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **dsn) as conn:
        conn.execute(sql)


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (make bench-load installs it: apt-get install -y wrk)")
    url = urlparse(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres")
    if url.scheme not in ("postgres", "postgresql"):
        sys.exit("bench-load needs DATABASE_URL=postgres://… (a PostgreSQL server)")
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/9"
    seconds, conns = int(os.environ.get("LOAD_SECONDS", "5")), int(os.environ.get("LOAD_CONNECTIONS", "4"))
    dsn = dict(host=url.hostname or "127.0.0.1", port=url.port or 5432, user=url.username or "postgres",
               password=url.password)
    scratch = f"raxx_load_{uuid.uuid4().hex[:8]}"
    auth = f"{dsn['user']}:{dsn['password']}@" if dsn["password"] else f"{dsn['user']}@"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "raxx.settings", "DJANGO_DEBUG": "0",
        "DJANGO_SSL_REDIRECT": "0",  # plain HTTP on loopback (production TLS is the proxy's)
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48), "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "BETA_TOKEN_SECRET": secrets.token_urlsafe(48), "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://{auth}{dsn['host']}:{dsn['port']}/{scratch}", "REDIS_URL": redis_url,
        # The load comes from one customer: lift the per-customer rate limits for this run only.
        "THROTTLE_CUSTOMER": "100000000/min", "THROTTLE_CUSTOMER_WRITES": "100000000/min",
        "THROTTLE_ANONYMOUS": "100000000/min", "LOG_LEVEL": "WARNING", "LOG_FORMAT": "json",
    })
    _psql_admin(dsn, f'CREATE DATABASE "{scratch}"')
    web = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            manage = [str(BIN / "python"), "manage.py"]
            subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
            seeded = subprocess.run([*manage, "seed_demo"], env=env, cwd=ROOT, check=True, capture_output=True,
                                    text=True).stdout
            tokens = _tokens(seeded)
            # The sentiment filter's goal is at 1,000 labelled trades: the demo customer's book grown to that.
            subprocess.run([*manage, "shell", "-v", "0", "-c",
                            "from bench.bench_journal import _seed; from journal.demo import TRADES; "
                            "from raxx.models import Customer; "
                            f"_seed(Customer.objects.get(pk='{DEMO_PRO_PLUS}'), {FILTER_BOOK} - len(TRADES))"],
                           env=env, cwd=ROOT, check=True)
            position_id = subprocess.run(
                [*manage, "shell", "-v", "0", "-c",
                 "from wcb.models import WcbSnapshot; print(WcbSnapshot.objects.filter(horizon_reached=True, "
                 f"user_id='{DEMO_PRO_PLUS}').values_list('position_id', flat=True).first())"],
                env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
            port = free_port()
            web = Process("gunicorn", [str(BIN / "gunicorn"), "bench.load_wsgi", "--bind", f"127.0.0.1:{port}",
                                       "--workers", "2", "--worker-class", "sync"], env, Path(tmp)).start()
            base = f"http://127.0.0.1:{port}"
            wait_until("gunicorn", lambda: answers(f"{base}/bench/plain"), 60)
            plan = routes(tokens, position_id)
            _check(base, plan)
            results = []
            for route in [*([r] for r in plan), [r for r in plan[1:] if r[0] not in FLOORS]]:
                script = Path(tmp) / "script.lua"
                script.write_text(lua_for(route))
                subprocess.run(["wrk", "-t2", f"-c{conns}", "-d2s", "-s", str(script), base],
                               capture_output=True, timeout=60)  # warm-up: caches, connections
                out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", str(script),
                                      base], capture_output=True, text=True, timeout=seconds + 60).stdout
                name = route[0][0] if len(route) == 1 else "mixed (all routes above but the plain view)"
                results.append({"route": name, **parse_wrk(out)})
            print_table(results, seconds, conns)
    finally:
        if web:
            web.stop()
        _psql_admin(dsn, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _tokens(seed_output: str) -> dict:
    lines = seed_output.splitlines()
    tokens = {}
    for i, line in enumerate(lines):
        if line.startswith("JWT for") and "tier pro_plus" in line:
            tokens["pro_plus"] = lines[i + 1].strip()
        if line.startswith("walkthrough:") and "token: " in line:
            tokens["walkthrough"] = line.rsplit("token: ", 1)[1].strip()
    missing = {"pro_plus", "walkthrough"} - set(tokens)
    if missing:
        raise SystemExit(f"seed_demo printed no token for {missing}:\n{seed_output}")
    return tokens


def _check(base: str, plan: list) -> None:
    """Each route answers 2xx once before the load (a broken route would measure error pages)."""
    import requests

    for name, method, path, headers, body in plan:
        r = requests.request(method, base + path, headers=headers, data=body, timeout=30)
        if not r.ok:
            raise SystemExit(f"{name}: HTTP {r.status_code} {r.text[:300]}")


def print_table(results: list[dict], seconds: int, conns: int) -> None:
    plain = next(r for r in results if r["route"] == PLAIN)
    print(f"\n== load: gunicorn 2 sync workers, production settings, PostgreSQL + Redis; wrk -t2 -c{conns} "
          f"-d{seconds}s per route on loopback")
    print("   (wrk shares the same 2 cores with gunicorn, PostgreSQL and Redis: absolute req/s are a floor;"
          " compare the ratios)")
    head = f"{'route':46} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'req/s ratio':>12} {'p50 ratio':>10}"
    print(head)
    for r in results:
        print(f"{r['route']:46} {r['rps']:9.1f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['errors']:7d} "
              f"{r['rps'] / plain['rps'] if plain['rps'] else 0:12.3f} "
              f"{r['p50_ms'] / plain['p50_ms'] if plain['p50_ms'] else 0:10.1f}")


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"(load run took {time.monotonic() - started:.0f} s)")
