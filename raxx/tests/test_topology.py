"""The production topology, run for real: gunicorn (2 workers), two Celery workers on
RabbitMQ, beat with the database scheduler, PostgreSQL and Redis.

Everything the test does to the system goes over HTTP or through the commands an
operator runs (``manage.py waffle_flag``, a schedule row); what it checks is what
a customer sees plus the rows in the (scratch) database. The broker is reached
through a TCP proxy the test owns, so "the broker is down" never touches the shared
RabbitMQ service; the RabbitMQ vhost and the PostgreSQL database are the test's own
and are deleted at the end. Skips with a reason when PostgreSQL, Redis or RabbitMQ
is missing (``.ci/run`` provides all three).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from .topology import (
    BIN,
    FakeAlpaca,
    Process,
    TcpProxy,
    answers,
    day_offset,
    free_port,
    gunicorn_pids,
    run_manage,
    sessions_for_test,
    tcp_open,
    wait_until,
)

# serialized_rollback: the migrated data (flags, periodic tasks) is there when the database is copied.
pytestmark = [pytest.mark.topology, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RABBIT = ("127.0.0.1", 5672)
SYMBOLS = [f"TP{i:02d}" for i in range(12)]
PER_SYMBOL = 3
ALPACA_DELAY_S = 0.3  # per HTTP request; a batch (one symbol) makes two


def _prerequisites():
    from django.conf import settings
    from django.db import connection

    if os.environ.get("RAXX_SKIP_TOPOLOGY") == "1":
        return "RAXX_SKIP_TOPOLOGY=1"
    if connection.vendor != "postgresql":
        return f"needs PostgreSQL (this run is on {connection.vendor})"
    if not getattr(settings, "REDIS_URL", ""):
        return "needs Redis (REDIS_URL is not set)"
    if not tcp_open(*RABBIT):
        return f"needs RabbitMQ on {RABBIT[0]}:{RABBIT[1]} (.ci/run starts it)"
    if not shutil.which("rabbitmqctl"):
        return "needs rabbitmqctl (for a vhost of its own)"
    for tool in ("gunicorn", "celery"):
        if not (BIN / tool).exists():
            return f"needs {BIN / tool} (make venv)"
    return ""


@pytest.fixture
def stack(request, django_db_blocker, tmp_path):
    """Scratch database, vhost, proxy, fake Alpaca, and a way to start processes; all torn down by PID."""
    import psycopg
    from django.conf import settings
    from django.db import connection, connections

    if reason := _prerequisites():
        pytest.skip(reason)
    started: list = []

    def cleanup(fn, *args):
        request.addfinalizer(lambda: fn(*args))

    # --- a PostgreSQL database of our own: a copy of the migrated test database ---
    with django_db_blocker.unblock():
        db = connection.settings_dict
        template = db["NAME"]
        connections.close_all()
    scratch = f"raxx_topo_{uuid.uuid4().hex[:10]}"
    conninfo = dict(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                    password=db["PASSWORD"] or None)

    def admin_sql(sql: str) -> None:
        with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
            conn.execute(sql)

    # A template must have no other sessions: earlier tests' threads (races, live servers) can leave
    # idle connections to the test database behind in this process; end them first.
    admin_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
              f"WHERE datname = '{template}' AND pid <> pg_backend_pid()")
    admin_sql(f'CREATE DATABASE "{scratch}" TEMPLATE "{template}"')
    cleanup(admin_sql, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    auth = f"{db['USER']}:{db['PASSWORD']}@" if db["PASSWORD"] else f"{db['USER']}@"
    database_url = f"postgres://{auth}{conninfo['host']}:{conninfo['port']}/{scratch}"

    def sql(query: str, params=()) -> list[tuple]:
        with psycopg.connect(dbname=scratch, autocommit=True, **conninfo) as conn:
            return conn.execute(query, params).fetchall()

    # --- RabbitMQ: our own vhost, reached through a proxy we can cut ---
    vhost = f"raxx_topo_{uuid.uuid4().hex[:10]}"

    def rabbitmqctl(*args):
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)

    rabbitmqctl("add_vhost", vhost)
    cleanup(rabbitmqctl, "delete_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    proxy = TcpProxy(RABBIT).start()
    cleanup(proxy.stop)

    alpaca = FakeAlpaca(delay=ALPACA_DELAY_S)
    cleanup(alpaca.stop)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "PYTEST", "DATABASE_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "raxx.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SSL_REDIRECT": "0",  # plain HTTP on loopback (production TLS is the proxy's)
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "BETA_TOKEN_SECRET": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{proxy.port}/{vhost}",
        "MARKET_DATA_PROVIDER": "alpaca",
        "ALPACA_API_KEY": secrets.token_urlsafe(32),
        "ALPACA_SECRET_KEY": secrets.token_urlsafe(32),
        "ALPACA_DATA_URL": alpaca.url,
        "WCB_TASK_ROWS": "1",  # one symbol per batch task: many tasks for two workers to share
        "LOG_LEVEL": "INFO",
    })

    class Stack:
        pass

    s = Stack()
    s.env, s.sql, s.proxy, s.alpaca, s.logdir = env, sql, proxy, alpaca, tmp_path

    def start(name: str, argv: list[str]) -> Process:
        proc = Process(name, argv, env, tmp_path).start()
        started.append(proc)
        return proc

    s.start = start

    def stop_all():
        for proc in reversed(started):
            proc.stop()
        for proc in started:  # shown by pytest only when the test failed
            print(f"--- {proc.name} (pid {proc.pid}) last lines ---\n" + "\n".join(proc.output().splitlines()[-25:]))

    request.addfinalizer(stop_all)
    return s


def _worker(stack, name: str) -> Process:
    return stack.start(name, [str(BIN / "celery"), "-A", "raxx", "worker", "-n", f"{name}@topology",
                              "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO",
                              "--without-gossip", "--without-mingle"])


def _ready(proc: Process) -> bool:
    return " ready." in proc.output()


def _token(stack, sub: uuid.UUID, tier: str) -> str:
    import jwt

    now = datetime.now(UTC)
    claims = {"sub": str(sub), "tier": tier, "token_type": "access", "jti": uuid.uuid4().hex,
              "iat": int(now.timestamp()), "exp": int((now + timedelta(hours=1)).timestamp())}
    return jwt.encode(claims, stack.env["JWT_SIGNING_KEY"], algorithm="HS256")


def _both_workers(get, url: str, pids_of, timeout: float = 30) -> list:
    """Concurrent pairs of requests until both gunicorn workers have answered at least once."""
    responses = []

    def pair():
        out = [None, None]
        threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, get(url))) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        responses.extend(out)
        return len({pid for pid, _ in pids_of()}) >= 2

    wait_until("both gunicorn workers to answer", pair, timeout, interval=0)
    return responses


def test_the_production_topology_end_to_end(stack):
    began = time.monotonic()
    port = free_port()
    access_log = stack.logdir / "access.log"
    web = stack.start("gunicorn", [str(BIN / "gunicorn"), "raxx.wsgi", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "2", "--access-logfile", str(access_log),
                                   "--access-logformat", "%(p)s %(m)s %(U)s %(s)s"])
    w1, w2 = _worker(stack, "w1"), _worker(stack, "w2")
    beat = stack.start("beat", [str(BIN / "celery"), "-A", "raxx", "beat", "--loglevel", "INFO",
                                "-S", "django_celery_beat.schedulers:DatabaseScheduler", "--max-interval", "1"])
    base = f"http://127.0.0.1:{port}"
    wait_until("gunicorn", lambda: answers(f"{base}/healthz"), 90)
    health = requests.get(f"{base}/healthz", timeout=5).json()
    assert (health["database"], health["cache"], health["broker"]) == (True, True, True), health

    # --- positions through the API, by a pro_plus customer ---
    customer = uuid.uuid4()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_token(stack, customer, 'pro_plus')}"
    me = session.get(f"{base}/api/me", timeout=10)
    assert me.status_code == 200 and me.json()["tier"] == "pro_plus"
    close_day, target = sessions_for_test(datetime.now(UTC))
    positions = []
    for symbol in SYMBOLS:
        for i in range(PER_SYMBOL):
            r = session.post(f"{base}/api/trading/close-position", timeout=10, json={
                "symbol": symbol, "asset_type": "equity", "quantity": str(10 + i), "cost_basis": "90",
                "close_price": "110", "closed_at": day_offset(close_day, 15)})  # 15:00 UTC: before the close
            assert r.status_code == 201, r.text
            assert r.json()["wcb_tracking"] is True
            positions.append(r.json()["position_id"])
    total = len(positions)
    assert stack.sql("SELECT count(*) FROM closed_position_wcb_snapshots WHERE NOT horizon_reached") == [(total,)]

    # The render route's flag is off: 404, from both gunicorn workers.
    render = f"{base}/api/positions/{positions[0]}/what-could-have-been"
    before = _both_workers(lambda u: session.get(u, timeout=30), render,
                           lambda: gunicorn_pids(access_log, path_contains="/what-could-have-been"))
    assert {r.status_code for r in before} == {404}

    # --- beat fires the EOD job (a one-off schedule a few seconds out; the real ones paused) ---
    wait_until("both workers", lambda: _ready(w1) and _ready(w2), 90)
    run_manage(stack.env, "shell", "-c", (
        "from datetime import timedelta; from django.utils import timezone; "
        "from django_celery_beat.models import ClockedSchedule, PeriodicTask; "
        "PeriodicTask.objects.update(enabled=False); "
        "clock = ClockedSchedule.objects.create(clocked_time=timezone.now() + timedelta(seconds=3)); "
        "PeriodicTask.objects.create(name='topology: EOD now', task='wcb.tasks.wcb_eod_job', clocked=clock, "
        "one_off=True)"))

    def batches():
        return stack.sql("SELECT id, status, worker, attempts FROM wcb_job_batches ORDER BY index")

    # Kill w1 in the middle of a batch, once each worker has finished one (both do work).
    def w1_mid_batch():
        rows = batches()
        done_by = {w.split("@")[0] for _, status, w, _ in rows if status == "done"}
        busy = [bid for bid, status, w, attempts in rows if status == "pending" and attempts and w.startswith("w1@")]
        return busy[0] if {"w1", "w2"} <= done_by and busy else None

    killed_batch = wait_until("w1 to be in the middle of a batch", w1_mid_batch, 90, interval=0.02)
    w1.kill()
    w1 = _worker(stack, "w1")  # same name, as a supervisor would restart it

    def run_over():
        rows = stack.sql("SELECT status, finalized, pending, failed, symbols, batches FROM wcb_job_runs")
        return rows if rows and rows[0][0] != "running" else None

    (status, finalized, pending, failed, symbols, n_batches), = wait_until("the EOD run to finish", run_over, 90)
    assert (status, finalized, pending, failed) == ("succeeded", total, 0, 0)
    assert (symbols, n_batches) == (len(SYMBOLS), len(SYMBOLS))
    rows = batches()
    assert {status for _, status, _, _ in rows} == {"done"}
    assert {w.split("@")[0] for _, _, w, _ in rows} == {"w1", "w2"}  # both workers did work
    redelivered = {bid: attempts for bid, _, _, attempts in rows}[killed_batch]
    assert redelivered >= 2, "the killed worker's batch was not redelivered"
    # Every row finalized, and counted, exactly once: the per-batch counters add up to the rows.
    assert stack.sql("SELECT sum(finalized), sum(pending), sum(failed) FROM wcb_job_batches") == [(total, 0, 0)]
    assert stack.sql("SELECT count(*), count(DISTINCT position_id) FROM closed_position_wcb_snapshots "
                     "WHERE horizon_reached AND data_source = 'alpaca'") == [(total, total)]
    finalized_rows = stack.sql("SELECT id, updated_at, would_have_pnl FROM closed_position_wcb_snapshots ORDER BY id")
    assert "wcb.tasks.wcb_eod_job" in beat.output()

    # Re-running never changes a finalized row.
    out = run_manage(stack.env, "wcb_run", "eod")
    assert out.startswith("finalized=0 pending=0 failed=0"), out
    assert stack.sql("SELECT id, updated_at, would_have_pnl FROM closed_position_wcb_snapshots ORDER BY id") == \
        finalized_rows

    # --- a flag flip reaches both gunicorn workers on their next request ---
    mark = len(access_log.read_text().splitlines())
    run_manage(stack.env, "waffle_flag", "FLAG_WCB_ENABLED", "--everyone")
    after = _both_workers(lambda u: session.get(u, timeout=30), render,
                          lambda: gunicorn_pids(access_log, mark, "/what-could-have-been"))
    assert {r.status_code for r in after} == {200}
    served = gunicorn_pids(access_log, mark, "/what-could-have-been")
    assert {status for _, status in served} == {200} and len({pid for pid, _ in served}) == 2
    body = after[0].json()
    assert body["snapshot"]["horizon_reached"] is True and body["snapshot"]["data_source"] == "alpaca"
    close = FakeAlpaca.close(close_day)
    assert body["snapshot"]["horizon_price"].startswith(f"{close}.")
    assert body["trajectory"] and body["trajectory"][-1][0] == close_day.isoformat()

    # --- the broker goes away: the API keeps answering, /healthz says so ---
    stack.proxy.cut()
    try:
        assert session.get(f"{base}/api/me", timeout=10).status_code == 200
        assert session.get(render, timeout=30).status_code == 200
        r = session.post(f"{base}/api/trading/close-position", timeout=10, json={
            "symbol": SYMBOLS[0], "asset_type": "equity", "quantity": "1", "cost_basis": "90",
            "close_price": "110"})
        assert r.status_code == 201
        down = requests.get(f"{base}/healthz", timeout=10)
        assert down.status_code == 200
        assert (down.json()["database"], down.json()["broker"]) == (True, False)
    finally:
        stack.proxy.restore()
    wait_until("healthz to see the broker again",
               lambda: requests.get(f"{base}/healthz", timeout=10).json()["broker"], 30)
    assert web.popen.poll() is None and w2.popen.poll() is None and beat.popen.poll() is None
    assert time.monotonic() - began < 240
