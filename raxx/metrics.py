"""Prometheus metrics (CONTRACTS §11), with prometheus-client.

Counters and histograms live in the process that counts them. Under gunicorn
(several worker processes) and beside a Celery worker, set
``PROMETHEUS_MULTIPROC_DIR`` to one empty folder for every process of the box
*before they start*: each process writes its own mmap files there and
``/metrics`` (whichever worker answers) adds them all up. ``raxx/gunicorn_conf.py``
clears files of dead processes at start and marks exited workers.

Values read at scrape time (job staleness, the last WCB run of each job) come
from the database, so they are the same whichever process serves the scrape.

Labels are route names, job names, outcomes: never a customer id, a path or a
query string (a test scans the output).
"""

from __future__ import annotations

import ipaddress
import logging
import os
from functools import lru_cache

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from .errors import NOT_FOUND, error_body

logger = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "raxx_http_request_duration_seconds", "Time from the first middleware to the response, by route name.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
JOB_RUNS = Counter("raxx_job_runs_total", "Celery task runs by task and outcome.", ["job", "outcome"])
WCB_ROWS = Counter("raxx_wcb_rows_total", "WCB snapshot rows handled by EOD/EOM runs.", ["job", "outcome"])
CACHE_REQUESTS = Counter("raxx_cache_requests_total", "Cache reads by cache and result.", ["cache", "result"])
RATE_LIMITED = Counter("raxx_rate_limited_total", "Requests refused with 429 (DRF Throttled), by route.", ["route"])
ACCOUNT_OPERATIONS = Counter("raxx_account_operations_total", "Merges and data-subject requests carried out.",
                             ["operation"])


def cache_read(cache_name: str, hit: bool, count: int = 1) -> None:
    if count:
        CACHE_REQUESTS.labels(cache_name, "hit" if hit else "miss").inc(count)


def route_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name or match.route or "unnamed") if match is not None else "unmatched"


# --- scrape-time values from the database -------------------------------------------


class DatabaseCollector:
    """Job staleness and the last WCB run per job; nothing when the database is down."""

    def collect(self):
        stale = GaugeMetricFamily("raxx_job_stale", "1 when a job's owed run has not succeeded (CONTRACTS §11).",
                                  labels=["job"])
        paused = GaugeMetricFamily("raxx_job_paused", "1 when an operator paused the job.", labels=["job"])
        last_ok = GaugeMetricFamily("raxx_job_last_success_timestamp_seconds", "Unix time of the last success.",
                                    labels=["job"])
        wcb_last = GaugeMetricFamily("raxx_wcb_last_run_rows", "Rows of the latest finished WCB run, by state.",
                                     labels=["job", "state"])
        try:
            from wcb.models import WcbJobRun

            from .jobs import job_health

            for job in job_health():
                stale.add_metric([job.name], float(job.stale))
                paused.add_metric([job.name], float(job.paused))
                if job.last_success:
                    last_ok.add_metric([job.name], job.last_success.timestamp())
            for job in ("eod", "eom"):
                run = (WcbJobRun.objects.filter(job=job).exclude(status=WcbJobRun.Status.RUNNING)
                       .order_by("-started_at").values("finalized", "pending", "failed").first())
                for state, value in (run or {}).items():
                    wcb_last.add_metric([job, state], value)
        except Exception:
            logger.exception("metrics: database values unavailable")
        yield from (stale, paused, last_ok, wcb_last)


_LIVE = CollectorRegistry(auto_describe=False)
_LIVE.register(DatabaseCollector())


def _process_registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


@lru_cache(maxsize=1)
def _allowed_networks(cidrs: tuple[str, ...]):
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def client_allowed(remote_addr: str) -> bool:
    try:
        address = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in net for net in _allowed_networks(tuple(settings.METRICS_ALLOWED_CIDRS)))


def metrics_view(request):
    """``GET /metrics``: only for METRICS_ALLOWED_CIDRS (REMOTE_ADDR, never a forwarded header)."""
    if not client_allowed(request.META.get("REMOTE_ADDR", "")):
        return JsonResponse(error_body(NOT_FOUND), status=404)
    body = generate_latest(_process_registry()) + generate_latest(_LIVE)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
