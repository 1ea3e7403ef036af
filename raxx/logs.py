"""Request ids, structured logs and the per-request metric (CONTRACTS §11).

- ``RequestContextMiddleware`` (first in MIDDLEWARE) takes the client's
  ``X-Request-ID`` when it is 1–128 visible ASCII characters, else makes one,
  echoes it on every response, times the request, observes the latency
  histogram and writes one access line (route name, status, duration: never
  the path, the query string or a header).
- ``ContextFilter`` puts ``request_id``, ``route``, ``job`` and ``run_id`` on every
  log record of that request or Celery task; ``JsonFormatter`` writes one JSON
  object per line and filters tokens and emails out of the message.
- Celery: the request id travels in the task's headers (``before_task_publish``)
  and is put back in the worker (``task_prerun``), with the job name (the beat
  entry's name when beat sent it) and the run id (the task id).
"""

from __future__ import annotations

import contextvars
import logging
import time
import secrets

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from .redact import scrub, scrub_text

REQUEST_ID_HEADER = "X-Request-ID"
MAX_REQUEST_ID = 128

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("raxx_request_id", default=None)
route_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("raxx_route", default=None)
job_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("raxx_job", default=None)
run_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("raxx_run_id", default=None)

access_logger = logging.getLogger("raxx.request")


class AtMostEvery:
    """True at most once per ``seconds`` in this process: for a warning that would otherwise be
    written on every request while, say, a cache is down. ``reset()`` makes the next call true."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.reset()

    def reset(self) -> None:
        self._last = float("-inf")

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self._last > self.seconds:
            self._last = now
            return True
        return False


def valid_request_id(value: str | None) -> bool:
    """1–128 visible ASCII characters, and nothing that looks like a token (it is logged as is)."""
    return (bool(value) and len(value) <= MAX_REQUEST_ID and all("!" <= ch <= "~" for ch in value)
            and scrub_text(value) == value)


def new_request_id() -> str:
    return secrets.token_hex(16)


class RequestContextMiddleware:
    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.access_log = getattr(settings, "LOG_REQUESTS", True)

    def __call__(self, request):
        from .metrics import REQUEST_LATENCY, route_name

        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID")
        request_id = incoming if valid_request_id(incoming) else new_request_id()
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
            duration = time.perf_counter() - started
            route = route_name(request)
            response[REQUEST_ID_HEADER] = request_id
            REQUEST_LATENCY.labels(route, request.method, str(response.status_code)).observe(duration)
            route_var.set(route)
            if self.access_log:
                access_logger.info("%s %s %s", request.method, route, response.status_code, extra={
                    "method": request.method, "status": response.status_code,
                    "duration_ms": round(duration * 1000, 3)})
            return response
        finally:
            request_id_var.reset(token)
            route_var.set(None)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from .metrics import route_name

        route_var.set(route_name(request))  # log lines inside the view name their route
        return None


class ContextFilter(logging.Filter):
    """Every record carries the ids of the request or task it happened in (or None)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (("request_id", request_id_var), ("route", route_var), ("job", job_var),
                          ("run_id", run_id_var)):
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: timestamp, level, logger, message and the context fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__("%(levelname)s %(name)s %(message)s %(request_id)s %(route)s %(job)s %(run_id)s",
                         *args, **kwargs)

    def process_log_record(self, log_data):
        if log_data.get("logger") == "raxx.request":  # our access line: route names and numbers only
            return log_data
        for key, value in list(log_data.items()):
            if key in ("message", "exc_info", "stack_info"):
                log_data[key] = scrub_text(value) if isinstance(value, str) else value
            elif key not in ("timestamp", "level", "logger"):
                log_data[key] = scrub({key: value})[key]
        return log_data


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        if request_id is None:  # shown as "-", without changing the record other handlers see
            record.request_id = "-"
            try:
                return self._scrubbed(record)
            finally:
                record.request_id = None
        return self._scrubbed(record)

    def _scrubbed(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if record.name == "raxx.request" else scrub_text(text)


# --- Celery -----------------------------------------------------------------------------


def _add_request_id_header(headers=None, **kwargs):
    request_id = request_id_var.get()
    if request_id and isinstance(headers, dict):
        headers.setdefault("request_id", request_id)


_task_tokens: dict[str, list] = {}


def _task_prerun(task_id=None, task=None, **kwargs):
    request = getattr(task, "request", None)
    headers = getattr(request, "headers", None) or {}  # eager runs keep custom headers here
    job = getattr(request, "periodic_task_name", None) or headers.get("periodic_task_name") or getattr(task, "name", None)
    request_id = getattr(request, "request_id", None) or headers.get("request_id") or request_id_var.get()
    _task_tokens[task_id] = [request_id_var.set(request_id if valid_request_id(request_id) else None),
                             job_var.set(job), run_id_var.set(task_id)]


def _task_postrun(task_id=None, task=None, state=None, **kwargs):
    from .metrics import JOB_RUNS

    tokens = _task_tokens.pop(task_id, None)
    for var, token in zip((request_id_var, job_var, run_id_var), tokens or (), strict=False):
        try:
            var.reset(token)
        except ValueError:  # set in another context (a pool thread): nothing of ours to undo
            var.set(None)
    JOB_RUNS.labels(getattr(task, "name", "unknown"), (state or "unknown").lower()).inc()


def connect_celery_signals() -> None:
    from celery import signals

    signals.before_task_publish.connect(_add_request_id_header, dispatch_uid="raxx.logs.publish", weak=False)
    signals.task_prerun.connect(_task_prerun, dispatch_uid="raxx.logs.prerun", weak=False)
    signals.task_postrun.connect(_task_postrun, dispatch_uid="raxx.logs.postrun", weak=False)


def logging_config(*, fmt: str, level: str) -> dict:
    """settings.LOGGING: ``fmt`` is ``json`` or ``plain``."""
    formatter = "json" if fmt == "json" else "plain"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "raxx.logs.ContextFilter"}},
        "formatters": {
            "plain": {"()": "raxx.logs.PlainFormatter",
                      "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {"()": "raxx.logs.JsonFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": formatter, "filters": ["context"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "django.db.backends": {"level": "WARNING"},
            # Django's own request/server error lines carry the raw path: our access line replaces them.
            "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
            "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }
