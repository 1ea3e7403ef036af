"""A full tester run through every walkthrough screen (both flags on, income path).

Per screen: the median cost of one request through the real stack (URL routing,
token authentication, flags, writes, JSON) and its query count, against a
raw-SQL baseline doing the same reads and writes on one cursor with no
framework at all (token lookup, progress update, paper-trade/response insert,
each write its own autocommit statement). Requests and baseline calls
alternate, one of each per tester, so load from other work on the box falls
on both sides alike.

``floor``: the same raw SQL inside a plain Django view (``bench/floor_urls.py``) that also makes
one Redis round trip and answers the step's JSON body: what any Django implementation of this
design pays before DRF, authentication and flags. ``floor_ratio`` is its time over the raw SQL's.
"""

import json
import statistics
import time

from bench import floor_urls, harness
from bench.platform_urls import TESTER_KEYS

TITLE = "walkthrough: one tester through every screen (in-process, per request)"
TESTERS = 60
WARMUP = 5

LEGS = [
    {"role": "long_put", "strike": 5250.0, "expiry": "2026-06-26", "option_type": "put", "action": "buy", "premium": 4.1},
    {"role": "short_put", "strike": 5300.0, "expiry": "2026-06-26", "option_type": "put", "action": "sell", "premium": 6.2},
    {"role": "short_call", "strike": 5550.0, "expiry": "2026-06-26", "option_type": "call", "action": "sell", "premium": 5.4},
    {"role": "long_call", "strike": 5600.0, "expiry": "2026-06-26", "option_type": "call", "action": "buy", "premium": 3.0},
]
SURVEY = {"structure_clear": 4, "fields_clear": 5, "matched_account": "yes"}
STEPS = [
    ("GET", "screen/1", None), ("POST", "screen/1", {"track": "full"}),
    ("POST", "screen/1/intent", {"intent_bucket": "income"}),
    ("GET", "screen/2", None), ("POST", "screen/2", {"answers": {"read": "yes"}}),
    ("GET", "screen/3", None), ("POST", "screen/3", {"legs": LEGS}),
    ("GET", "screen/4", None), ("POST", "screen/4", {}),
    ("GET", "screen/5", None), ("POST", "screen/5", {"answers": SURVEY}),
    ("GET", "status", None),
]
# The same database work, by hand: token lookup (+ program), then the step's writes.
RAW_WRITES = {
    ("POST", "screen/1"): ["UPDATE beta_walkthrough_progress SET track_selected='full', screen_completed_max=1, "
                           "flag_cell='ss_on/pr_on', updated_at=%(now)s WHERE id=%(id)s"],
    ("POST", "screen/1/intent"): ["UPDATE beta_walkthrough_progress SET intent_bucket='income', updated_at=%(now)s "
                                  "WHERE id=%(id)s"],
    ("POST", "screen/2"): ["UPDATE beta_walkthrough_progress SET scenario_answers='{}', screen_completed_max=2, "
                           "updated_at=%(now)s WHERE id=%(id)s"],
    ("POST", "screen/3"): ["INSERT INTO beta_walkthrough_paper_trades (progress_id, strategy_type, underlying, "
                           "short_call_strike, long_call_strike, short_put_strike, long_put_strike, wing_width, "
                           "legs_json, created_at) VALUES (%(id)s, 'iron_condor', 'SPX', 5550, 5600, 5300, 5250, 50, "
                           "%(legs)s, %(now)s)",
                           "UPDATE beta_walkthrough_progress SET screen_completed_max=3, updated_at=%(now)s "
                           "WHERE id=%(id)s"],
    ("POST", "screen/4"): ["UPDATE beta_walkthrough_progress SET screen_completed_max=4, updated_at=%(now)s "
                           "WHERE id=%(id)s"],
    ("POST", "screen/5"): ["INSERT INTO beta_walkthrough_responses (progress_id, answers, created_at) "
                           "VALUES (%(id)s, %(answers)s, %(now)s)",
                           "UPDATE beta_walkthrough_progress SET screen_completed_max=5, completed_at=%(now)s, "
                           "updated_at=%(now)s WHERE id=%(id)s"],
}
LOOKUP = ("SELECT p.id, p.screen_completed_max, g.ends_on FROM beta_walkthrough_progress p "
          "JOIN beta_walkthrough_programs g ON g.id = p.program_id WHERE p.token_hash = %s")


def _testers(n, program, prefix):
    from walkthrough.services import walkthrough_invite

    return [walkthrough_invite(email=f"{prefix}{i}@bench.test", program=program) for i in range(n)]


def run() -> list[dict]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import override_settings
    from django.utils import timezone
    from rest_framework.test import APIClient
    from waffle.models import Flag

    from walkthrough.services import program_get_or_create
    from walkthrough.tokens import token_hash

    Flag.objects.filter(name__in=["FLAG_BETA_WALKTHROUGH_SELF_SELECT", "FLAG_WALKTHROUGH_PERSONA_ROUTING"]).update(
        everyone=True)
    cache.clear()
    program = program_get_or_create(name="bench")
    ours = [APIClient() for _ in range(TESTERS)]
    for client, invite in zip(ours, _testers(TESTERS, program, "t")):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {invite.token}")
        # Its middleware chain built now, as a gunicorn worker builds it once when it starts (the test
        # client builds it on its first request: ~20 ms, WhiteNoise's scan of the static files included).
        client.handler.load_middleware()
    raw_hashes = [token_hash(i.token) for i in _testers(TESTERS, program, "r")]
    floor_hashes = [token_hash(i.token) for i in _testers(TESTERS, program, "f")]
    floor_client = APIClient()
    probe = APIClient()
    probe.credentials(HTTP_AUTHORIZATION=f"Bearer {_testers(1, program, 'q')[0].token}")
    probe.get("/api/walkthrough/status")  # warm the flag cache

    rows = []
    for method, route, body in STEPS:
        clients = iter(ours)

        def call(method=method, route=route, body=body):
            client = next(clients)
            url = f"/api/walkthrough/{route}"
            response = client.get(url) if method == "GET" else client.post(url, body, format="json")
            assert response.status_code in (200, 201), (route, response.content[:200])

        answers = []
        queries = harness.count_queries(lambda: answers.append(_probe(probe, method, route, body)))

        writes = RAW_WRITES.get((method, route), [])

        def raw(writes=writes, hashes=iter(raw_hashes)):
            now = timezone.now()
            with connection.cursor() as cur:
                cur.execute(LOOKUP, [next(hashes)])
                pk = cur.fetchone()[0]
                for sql in writes:
                    cur.execute(sql, {"id": pk, "now": now, "legs": json.dumps(LEGS), "answers": json.dumps(SURVEY)})

        floor_urls.FLOOR.update(sql=lambda writes=writes, hashes=iter(floor_hashes): raw(writes, hashes),
                                body=answers[0].json(), status=answers[0].status_code,
                                keys=TESTER_KEYS, counted=False)  # a tester's trip: the flags' MGET, no limit

        def floor(method=method, body=body):
            response = (floor_client.get("/bench/floor") if method == "GET"
                        else floor_client.post("/bench/floor", body, format="json"))
            assert response.status_code in (200, 201)

        with override_settings(ROOT_URLCONF="bench.floor_urls"):
            mine, base, least = _interleaved(call, raw, floor, rounds=TESTERS, warmup=WARMUP)
        rows.append({"step": f"{method} {route}", "queries": queries, "median_us": mine["median_us"],
                     "p95_us": mine["p95_us"], "raw_sql_us": base["median_us"], "floor_us": least["median_us"],
                     "ratio": round(mine["median_us"] / base["median_us"], 1),
                     "floor_ratio": round(least["median_us"] / base["median_us"], 1)})
    total, total_raw = sum(r["median_us"] for r in rows), sum(r["raw_sql_us"] for r in rows)
    total_floor = sum(r["floor_us"] for r in rows)
    rows.append({"step": "whole run", "queries": sum(r["queries"] for r in rows), "median_us": total,
                 "p95_us": "", "raw_sql_us": total_raw, "floor_us": total_floor, "ratio": round(total / total_raw, 1),
                 "floor_ratio": round(total_floor / total_raw, 1)})
    return rows



def summary(rows: list[dict]) -> list[dict]:
    steps, whole = rows[:-1], rows[-1]
    most = max(r["queries"] for r in steps)
    ratio = whole["median_us"] / whole["raw_sql_us"]
    return [harness.goal(f"walkthrough: one tester's {len(steps)} requests",
                         f"{whole['median_us'] / 1000:,.1f} ms, {whole['queries']} queries (≤ {most} per request)",
                         f"same reads/writes in raw SQL {whole['raw_sql_us'] / 1000:,.1f} ms", ratio,
                         "≤ 2 queries per request, ≤ 2.5×", most <= 2 and ratio <= 2.5),
            harness.goal("walkthrough: its floor (a plain view: the same SQL, one Redis round trip, the same JSON)",
                         f"{whole['floor_us'] / 1000:,.1f} ms",
                         f"raw SQL {whole['raw_sql_us'] / 1000:,.1f} ms", whole["floor_us"] / whole["raw_sql_us"],
                         "(reported)", None)]


def _interleaved(*fns, rounds: int, warmup: int) -> tuple[dict, ...]:
    """``harness.measure`` for functions called in turn (the order reverses every other round)."""
    samples = tuple([] for _ in fns)
    for i in range(rounds):
        order = range(len(fns)) if i % 2 == 0 else reversed(range(len(fns)))
        for side in order:
            start = time.perf_counter()
            fns[side]()
            if i >= warmup:
                samples[side].append((time.perf_counter() - start) * 1e6)
    out = []
    for values in samples:
        values.sort()
        out.append({"median_us": statistics.median(values), "p95_us": values[int(len(values) * 0.95) - 1],
                    "mean_us": statistics.fmean(values), "n": len(values)})
    return tuple(out)


def _probe(client, method, route, body):
    url = f"/api/walkthrough/{route}"
    response = client.get(url) if method == "GET" else client.post(url, body, format="json")
    assert response.status_code in (200, 201), (route, response.content[:200])
    return response


if __name__ == "__main__":
    harness.main(TITLE, run)
