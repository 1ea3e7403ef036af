"""The EOD and EOM jobs: finalize pending snapshots whose horizon has closed.

One run, in order:

1. The target session: EOD — the latest completed NYSE session; EOM — the
   latest completed session that ends a month.
2. One grouped query lists the pending symbols (and each one's earliest close).
3. Market data is fetched ONCE per symbol, outside any transaction (slow I/O
   must not hold row locks). A provider failure (``MarketDataUnavailable``)
   leaves that symbol's rows pending for the next run (revision §12).
4. Rows are processed in keyset batches. Each batch is one short transaction:
   ``SELECT … FOR UPDATE SKIP LOCKED`` claims the rows (a second worker
   running at the same time skips them instead of waiting, so no row is
   computed twice), the pure computation runs in memory, and one set-based
   ``UPDATE … FROM (VALUES …)`` writes the batch (PostgreSQL), or one
   ``executemany`` (SQLite). Every write also says ``AND NOT horizon_reached``:
   re-running a job never changes a finalized row.
5. The run ledger (``WcbJobRun``) records the counts; one log line per run.

Scheduled fires go through :func:`run_scheduled`, which claims the ledger row
``<job>:<session>`` first: a duplicate beat fire for a session already done (or
running) does nothing, and a missed day is caught up because every run takes
all pending rows whose horizon is at or before its session, not only today's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Min
from django.utils import timezone

from raxx.jobs import record_run
from raxx.metrics import WCB_ROWS

from . import calendar as nyse
from . import market_data
from .compute import PositionInput, compute
from .models import HORIZON_EOD, HORIZON_EOM, WcbJobRun, WcbSnapshot

logger = logging.getLogger("wcb.jobs")

JOBS = {"eod": HORIZON_EOD, "eom": HORIZON_EOM}
JOB_TASKS = {"eod": "wcb.tasks.wcb_eod_job", "eom": "wcb.tasks.wcb_eom_job"}
BATCH_SIZE = 1000
STALE_RUN = timedelta(hours=2)  # a "running" ledger row older than this belongs to a dead worker
EOM_CATCH_UP_SESSIONS = 5  # a missed first-trading-day EOM run is caught up within this many sessions

_ROW_FIELDS = ("id", "position_id", "symbol", "asset_type", "position_size_signed", "cost_basis", "close_price",
               "close_commission", "multiplier", "close_timestamp_utc", "tracking_horizon")
_WRITE_FIELDS = ("horizon_price", "horizon_timestamp_utc", "would_have_pnl", "actual_pnl", "delta_pnl",
                 "dividends_in_window", "split_ratio_applied", "data_source", "spinoff_detected", "horizon_reached")
_PG_CASTS = ("numeric", "timestamptz", "numeric", "numeric", "numeric", "numeric", "numeric", "varchar", "boolean",
             "boolean")


@dataclass
class RunSummary:
    job: str
    session: date | None
    run_id: str = ""
    finalized: int = 0
    pending: int = 0
    failed: int = 0
    symbols: int = 0
    skipped: str = ""  # why nothing was done (duplicate fire, not the EOM day, ...)
    failed_symbols: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.skipped:
            return f"wcb {self.job} run skipped: {self.skipped} (session {self.session})"
        return (f"wcb {self.job} run {self.run_id} session {self.session}: finalized={self.finalized} "
                f"pending={self.pending} failed={self.failed} symbols={self.symbols}")

    def as_dict(self) -> dict:
        data = asdict(self)
        data["session"] = self.session.isoformat() if self.session else None
        return data


Progress = Callable[[str], None]


def end_of_day_utc(day: date) -> datetime:
    """``--as-of YYYY-MM-DD``: the run happens at the end of that UTC day."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=dt_timezone.utc)


def target_session(job: str, now: datetime) -> date | None:
    """The session whose close a run at ``now`` finalizes up to."""
    last = nyse.last_completed_session(now)
    if last is None or job == "eod":
        return last
    if nyse.month_last_session(last) == last:
        return last
    before_month = datetime.combine(last.replace(day=1), time(0), tzinfo=dt_timezone.utc)
    return nyse.last_completed_session(before_month)


def eom_is_working_day(now: datetime, session: date) -> str:
    """'' when the EOM job should work at ``now``, else why not.

    It works on the first trading day of a month (UTC date of the fire). On the
    next few sessions it works again only while monthly rows of that month-end
    are still pending: a missed first-day fire, or rows held by the dividend-lag
    rule (a dividend ex on the month's last session can only finalize once the
    next session has closed, i.e. after the 02:00 UTC first-day fire).
    """
    today = now.astimezone(dt_timezone.utc).date()
    so_far = nyse.sessions_between(today.replace(day=1), today)
    if so_far and so_far[0] == today:
        return ""
    if len(so_far) <= EOM_CATCH_UP_SESSIONS and _pending_rows("eom", session, None).exists():
        return ""
    return "not the first trading day of the month"


def run_scheduled(job: str, *, now: datetime | None = None, progress: Progress | None = None) -> RunSummary:
    """A beat fire: at most one successful run per (job, session)."""
    now = now or timezone.now()
    session = target_session(job, now)
    if session is None:
        return RunSummary(job, None, skipped="no completed session")
    if job == "eom" and (reason := eom_is_working_day(now, session)):
        return RunSummary(job, session, skipped=reason)
    run = _claim_ledger(job, session, _dedupe_key(job, session, now))
    if run is None:
        summary = RunSummary(job, session, skipped="already ran (or running) for this session")
        logger.info(summary.line())
        return summary
    return _execute(run, job=job, session=session, now=now, progress=progress)


def run_manual(job: str, *, now: datetime | None = None, trigger: str = "manual",
               snapshot_ids: Iterable | None = None, progress: Progress | None = None) -> RunSummary:
    """``manage.py wcb_run`` and the admin action: always runs (rows still finalize once)."""
    now = now or timezone.now()
    session = target_session(job, now)
    if session is None:
        return RunSummary(job, None, skipped="no completed session")
    run = WcbJobRun.objects.create(job=job, session=session, trigger=trigger, started_at=timezone.now())
    try:
        summary = _execute(run, job=job, session=session, now=now, progress=progress, snapshot_ids=snapshot_ids)
    except Exception as exc:
        record_run(task=JOB_TASKS[job], ok=False, run_id=str(run.id), error=type(exc).__name__)
        raise
    if snapshot_ids is None:  # a full manual run catches the job up; a recompute of a few rows does not
        record_run(task=JOB_TASKS[job], ok=True, run_id=str(run.id))
    return summary


def _dedupe_key(job: str, session: date, now: datetime) -> str:
    """EOD: one run per session. EOM: one run per fire day (catch-up days may follow the first)."""
    if job == "eod":
        return f"eod:{session.isoformat()}"
    return f"eom:{session.isoformat()}:{now.astimezone(dt_timezone.utc).date().isoformat()}"


def _claim_ledger(job: str, session: date, key: str) -> WcbJobRun | None:
    started = timezone.now()
    try:
        with transaction.atomic():
            return WcbJobRun.objects.create(job=job, session=session, trigger="beat", dedupe_key=key,
                                            started_at=started)
    except IntegrityError:
        pass
    existing = WcbJobRun.objects.filter(dedupe_key=key).first()
    if existing is None:
        return None
    retryable = existing.status in (WcbJobRun.Status.PARTIAL, WcbJobRun.Status.FAILED) or (
        existing.status == WcbJobRun.Status.RUNNING and existing.started_at < started - STALE_RUN)
    if not retryable:
        return None
    # Conditional takeover: of two fires racing here, exactly one updates the row.
    taken = WcbJobRun.objects.filter(pk=existing.pk, status=existing.status, started_at=existing.started_at).update(
        status=WcbJobRun.Status.RUNNING, started_at=started, finished_at=None, error="")
    if not taken:
        return None
    existing.refresh_from_db()
    return existing


def _pending_rows(job: str, session: date, snapshot_ids):
    cutoff = nyse.session_close_utc(session)
    qs = WcbSnapshot.objects.filter(tracking_horizon=JOBS[job], horizon_reached=False, close_timestamp_utc__lt=cutoff)
    if snapshot_ids is not None:
        qs = qs.filter(pk__in=list(snapshot_ids))
    return qs


def _execute(run: WcbJobRun, *, job: str, session: date, now: datetime, progress: Progress | None,
             snapshot_ids=None) -> RunSummary:
    summary = RunSummary(job, session, run_id=str(run.id))
    try:
        _process(summary, job=job, session=session, now=now, progress=progress, snapshot_ids=snapshot_ids)
    except Exception as exc:  # the ledger says so; rows stay pending for the next run
        logger.exception("wcb %s run %s failed", job, run.id)
        WcbJobRun.objects.filter(pk=run.pk).update(
            status=WcbJobRun.Status.FAILED, finished_at=timezone.now(), finalized=summary.finalized,
            pending=summary.pending, failed=summary.failed, symbols=summary.symbols, error=repr(exc)[:2000])
        raise
    status = WcbJobRun.Status.PARTIAL if summary.failed_symbols else WcbJobRun.Status.SUCCEEDED
    WcbJobRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=timezone.now(), finalized=summary.finalized, pending=summary.pending,
        failed=summary.failed, symbols=summary.symbols,
        error=("provider unavailable for: " + ", ".join(summary.failed_symbols))[:2000] if summary.failed_symbols else "")
    for outcome in ("finalized", "failed"):
        WCB_ROWS.labels(job, outcome).inc(getattr(summary, outcome))
    logger.info(summary.line(), extra={"wcb_job": job, "wcb_run_id": str(run.id)})
    return summary


def _process(summary: RunSummary, *, job, session, now, progress, snapshot_ids) -> None:
    base = _pending_rows(job, session, snapshot_ids)
    groups = list(base.order_by().values("symbol").annotate(first=Min("close_timestamp_utc"), n=Count("id")))
    summary.symbols = len(groups)
    total = sum(g["n"] for g in groups)
    big = total > BATCH_SIZE  # progress lines only for runs worth watching
    if progress and big:
        progress(f"{total} pending row(s) across {len(groups)} symbol(s); fetching market data")

    data: dict[str, market_data.MarketData] = {}
    for i, group in enumerate(groups, 1):
        symbol = group["symbol"]
        try:
            start = nyse.effective_first_session(group["first"])
            data[symbol] = market_data.get_market_data(symbol, start, max(start, session))
        except market_data.MarketDataUnavailable as exc:
            logger.warning("wcb %s: market data unavailable for %s (%s); its rows stay pending", job, symbol, exc)
            summary.failed_symbols.append(symbol)
            summary.failed += group["n"]
        except Exception:
            logger.exception("wcb %s: market data for %s could not be read; its rows stay pending", job, symbol)
            summary.failed_symbols.append(symbol)
            summary.failed += group["n"]
        if progress and big and i % 100 == 0:
            progress(f"market data: {i}/{len(groups)} symbols")

    rows_qs = base.exclude(symbol__in=summary.failed_symbols) if summary.failed_symbols else base
    last_pk = None
    done = 0
    while True:
        with transaction.atomic():
            qs = rows_qs.order_by("pk")
            if last_pk is not None:
                qs = qs.filter(pk__gt=last_pk)
            # SKIP LOCKED: rows another worker is finalizing right now are its job, not ours.
            rows = list(qs.select_for_update(skip_locked=True).values(*_ROW_FIELDS)[:BATCH_SIZE])
            if not rows:
                break
            last_pk = rows[-1]["id"]
            updates, finalized_positions = _compute_batch(rows, data, now, summary)
            _write_batch(updates, now)
        _forget_cached(finalized_positions)
        done += len(rows)
        if progress and big:
            progress(f"rows: {done}/{total}")


def position_input(row: dict, horizon: str | None = None) -> PositionInput:
    return PositionInput(
        symbol=row["symbol"], asset_type=row["asset_type"], quantity=row["position_size_signed"],
        cost_basis=row["cost_basis"], close_price=row["close_price"], close_commission=row["close_commission"],
        multiplier=row["multiplier"], closed_at=row["close_timestamp_utc"],
        horizon=horizon or row["tracking_horizon"])


def _compute_batch(rows: list[dict], data: dict, now: datetime, summary: RunSummary):
    updates, finalized_ids = [], []
    for row in rows:
        try:
            result = compute(position_input(row), data[row["symbol"]], as_of=now)
        except Exception:
            # e.g. no next session in the calendar's range (revision §12): skip, ERROR log.
            logger.exception("wcb: snapshot %s (%s) could not be computed; left pending", row["id"], row["symbol"])
            summary.failed += 1
            continue
        if not _fits_columns(result):
            logger.error("wcb: snapshot %s (%s) has values beyond the column precisions; left pending",
                         row["id"], row["symbol"])
            summary.failed += 1
            continue
        if result.horizon_reached:
            updates.append((row["id"], result.horizon_price, result.horizon_timestamp_utc, result.would_have_pnl,
                            result.actual_pnl, result.delta_pnl, result.dividends_in_window,
                            result.split_ratio_applied, result.data_source, result.spinoff_detected, True))
            finalized_ids.append(row["position_id"])
            summary.finalized += 1
        else:
            # Still pending (no data yet, missing horizon bar, dividend lag): only provenance moves.
            updates.append((row["id"], None, None, None, None, None, None, None, result.data_source,
                            result.spinoff_detected, False))
            summary.pending += 1
    return updates, finalized_ids


_LIMITS = (("horizon_price", Decimal(10) ** 6), ("would_have_pnl", Decimal(10) ** 8),
           ("actual_pnl", Decimal(10) ** 8), ("delta_pnl", Decimal(10) ** 8),
           ("dividends_in_window", Decimal(10) ** 6), ("split_ratio_applied", Decimal(10) ** 4))


def _fits_columns(result) -> bool:
    """A value too wide for its NUMERIC column would fail the whole batch's UPDATE."""
    return all(getattr(result, name) is None or abs(getattr(result, name)) < limit for name, limit in _LIMITS)


def _write_batch(updates: list[tuple], now: datetime) -> None:
    if not updates:
        return
    if connection.vendor == "postgresql":
        _write_batch_pg(updates, now)
    else:
        _write_batch_portable(updates, now)


def _write_batch_pg(updates: list[tuple], now: datetime) -> None:
    row_sql = "(%s::uuid, " + ", ".join(f"%s::{cast}" for cast in _PG_CASTS) + ")"
    params: list = []
    for update in updates:
        params.extend(update)
    sql = f"""
        UPDATE closed_position_wcb_snapshots AS s SET
            horizon_price = v.horizon_price,
            horizon_timestamp_utc = v.horizon_timestamp_utc,
            would_have_pnl = v.would_have_pnl,
            actual_pnl = COALESCE(v.actual_pnl, s.actual_pnl),
            delta_pnl = v.delta_pnl,
            dividends_in_window = COALESCE(v.dividends_in_window, s.dividends_in_window),
            split_ratio_applied = COALESCE(v.split_ratio_applied, s.split_ratio_applied),
            data_source = v.data_source,
            spinoff_detected = v.spinoff_detected,
            horizon_reached = v.horizon_reached,
            last_computed_at = %s,
            updated_at = %s
        FROM (VALUES {", ".join([row_sql] * len(updates))}) AS v(id, {", ".join(_WRITE_FIELDS)})
        WHERE s.id = v.id AND NOT s.horizon_reached
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, *params])


def _write_batch_portable(updates: list[tuple], now: datetime) -> None:
    fields = {f.name: f for f in WcbSnapshot._meta.concrete_fields}
    names = ("id", *_WRITE_FIELDS)
    prepped = []
    for update in updates:
        values = [fields[name].get_db_prep_value(value, connection) if value is not None else None
                  for name, value in zip(names, update)]
        when = fields["last_computed_at"].get_db_prep_value(now, connection)
        prepped.append((*values[1:], when, when, values[0]))
    sql = """
        UPDATE closed_position_wcb_snapshots SET
            horizon_price = %s, horizon_timestamp_utc = %s, would_have_pnl = %s,
            actual_pnl = COALESCE(%s, actual_pnl), delta_pnl = %s,
            dividends_in_window = COALESCE(%s, dividends_in_window),
            split_ratio_applied = COALESCE(%s, split_ratio_applied),
            data_source = %s, spinoff_detected = %s, horizon_reached = %s,
            last_computed_at = %s, updated_at = %s
        WHERE id = %s AND NOT horizon_reached
    """
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepped)


def _forget_cached(position_ids: list) -> None:
    """Drop today's in-progress trajectory of rows just finalized (best effort, no query)."""
    if not position_ids:
        return
    today = timezone.now().date().isoformat()
    keys = [f"wcb_trajectory:{pid}:{today}" for pid in position_ids]
    try:
        cache.delete_many(keys)
    except Exception:  # a cache outage never fails a job
        logger.warning("wcb: trajectory cache unavailable; %s key(s) not cleared", len(keys))
