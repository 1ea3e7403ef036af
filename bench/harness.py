"""Shared plumbing for ``make bench``.

Each benchmark is a module ``bench/bench_<name>.py`` with a function
``run() -> list[dict]`` that builds its own data in a scratch database,
measures the project's code and a baseline (raw SQL or a plain view) in the
same run, and returns result rows. ``bench/run_all.py`` runs them all; a
single one runs with ``python -m bench.bench_<name>``.

Times are wall-clock on a shared 2-core machine: compare the ratios, not
the absolute numbers.
"""

import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raxx.settings_test")
    import logging

    import django

    os.environ.setdefault("LOG_FORMAT", "json")  # as in production
    # Thousands of requests a minute from one customer: the limits are counted (their cost is measured)
    # but never reached, so every measured request is the real answer, not a 429.
    for name in ("THROTTLE_CUSTOMER", "THROTTLE_CUSTOMER_WRITES", "THROTTLE_ANONYMOUS"):
        os.environ.setdefault(name, "100000000/min")
    django.setup()
    # Log lines are still built and written, as in production, but to /dev/null: a bench prints its table only.
    devnull = open(os.devnull, "w")  # noqa: SIM115 (open for the life of the process)
    for logger in [logging.getLogger(), *(logging.getLogger(n) for n in logging.root.manager.loggerDict)]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(devnull)


@contextmanager
def scratch_database():
    """A freshly migrated throwaway database (test_<name>), dropped afterwards."""
    from django.core.cache import caches
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    caches["default"].clear()  # REDIS_URL is the bench's own db, as for the tests: nothing of an earlier bench
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def measure(fn: Callable[[], object], *, repeat: int = 200, warmup: int = 20) -> dict:
    """Per-call wall time of ``fn`` in microseconds: median, p95, mean."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    samples.sort()
    return {"median_us": statistics.median(samples), "p95_us": samples[int(len(samples) * 0.95) - 1],
            "mean_us": statistics.fmean(samples), "n": repeat}


def count_queries(fn: Callable[[], object]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n== {title}")
    if not rows:
        return
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_fmt(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"
    return str(value)


def main(title: str, run: Callable[[], list[dict]]) -> None:
    setup_django()
    with scratch_database(), production_mode():
        print_table(title, run())


@contextmanager
def production_mode():
    """``DEBUG`` off while a bench measures, as in production (``DJANGO_DEBUG=0``) and ``make bench-load``:
    no query log kept per statement, none of Django's debug-only checks per request. Only ``DEBUG``:
    the rest of the test settings (what ``PRODUCTION`` decides at import, the scratch database, the
    lifted rate limits) stay."""
    from django.test import override_settings

    with override_settings(DEBUG=False):
        yield


def goal(path: str, value: str, baseline: str, ratio: float | None, target: str, met: bool | None) -> dict:
    """One line of ``make bench``'s summary table: what was measured against what, and the goal."""
    return {"path": path, "measured": value, "baseline (same run)": baseline,
            "ratio": "" if ratio is None else round(ratio, 2), "goal": target,
            "met": "" if met is None else ("yes" if met else "NO")}


def markdown(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)
