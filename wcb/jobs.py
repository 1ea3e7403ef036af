"""The EOD and EOM jobs: finalize pending snapshots whose horizon has closed.

One run, in order:

1. The target session: EOD — the latest completed NYSE session; EOM — the
   latest completed session that ends a month.
2. **Plan** (one transaction, together with the ledger row ``WcbJobRun``): one
   grouped query lists the pending symbols and their row counts, and the
   symbols are cut into batches of about ``TASK_ROWS`` rows (``WcbJobBatch``
   rows). A symbol is never split, so its market data is fetched once per run.
3. **Fan-out**: each batch is one Celery task (``wcb.tasks.wcb_job_batch``);
   several workers take them in parallel. ``wcb_run`` and the admin action run
   the same batches in-process, one after another (no broker needed), and so
   do eager-mode tests.
4. A batch fetches its symbols' market data outside any transaction (slow I/O
   must not hold row locks). A provider failure (``MarketDataUnavailable``)
   leaves that symbol's rows pending for the next run (revision §12).
5. Rows are processed in keyset chunks of ``BATCH_SIZE``, in (symbol, id) order
   inside the batch's symbol range (one range scan of ``idx_wcb_pending_symbol``
   per chunk, from the cursor). Each chunk is one short
   transaction: the batch row is locked (two deliveries of the same task take
   turns), ``SELECT … FOR UPDATE SKIP LOCKED`` claims the rows (a concurrent run
   skips them instead of waiting, so no row is computed twice), the computation
   runs in memory (once per window — symbol, close-date, first session,
   horizon — then each row's own arithmetic), one set-based
   ``UPDATE … FROM unnest(…)`` writes the chunk, finding its rows by ``ctid``
   (PostgreSQL; one ``executemany`` on SQLite), and the batch row's cursor and
   counts move in the same commit. The trajectory cache is left alone: a
   finalized row is rendered from its final entry, written only once it is final.
   Every write also says ``AND NOT horizon_reached``: re-running a job never
   changes a finalized row.
6. The batch that finishes last (under a lock on the run row) adds the batches'
   counts into the ledger and logs the run's one summary line.

Safe under redelivery (``acks_late`` + ``reject_on_worker_lost``): a worker
killed mid-batch loses only its open transaction; the redelivered task resumes
after the batch's cursor (``last_symbol``, ``last_pk``) and its counts were committed with the rows. A
plan task killed before dispatching is redelivered, finds its run ``running``
and dispatches the unfinished batches again (a duplicate batch task is a no-op).

Scheduled fires go through :func:`run_scheduled`, which claims the ledger row
``<job>:<session>`` first: a duplicate beat fire for a session already done (or
running) does nothing new, and a missed day is caught up because every run takes
all pending rows whose horizon is at or before its session, not only today's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, CharField, Count, F, Min
from django.db.models.expressions import RawSQL
from django.utils import timezone

from raxx.jobs import record_run
from raxx.metrics import WCB_ROWS

from . import calendar as nyse
from . import market_data
from .compute import (OPTION_ASSET_TYPES, PositionInput, actual_pnl_of, compute, horizon_factors,
                      would_have_pnl_of)
from .models import HORIZON_EOD, HORIZON_EOM, WcbJobBatch, WcbJobRun, WcbSnapshot

logger = logging.getLogger("wcb.jobs")

JOBS = {"eod": HORIZON_EOD, "eom": HORIZON_EOM}
JOB_TASKS = {"eod": "wcb.tasks.wcb_eod_job", "eom": "wcb.tasks.wcb_eom_job"}
BATCH_SIZE = 1000  # rows per transaction
TASK_ROWS = 5000  # rows per fan-out task (settings.WCB_TASK_ROWS overrides)
STALE_RUN = timedelta(hours=2)  # a "running" ledger row older than this belongs to a dead worker
EOM_CATCH_UP_SESSIONS = 5  # a missed first-trading-day EOM run is caught up within this many sessions

_ROW_FIELDS = ("id", "symbol", "asset_type", "position_size_signed", "cost_basis", "close_price", "close_commission",
               "multiplier", "close_timestamp_utc", "tracking_horizon")
_ID, _SYMBOL = 0, 1
_WRITE_FIELDS = ("horizon_price", "horizon_timestamp_utc", "would_have_pnl", "actual_pnl", "delta_pnl",
                 "dividends_in_window", "split_ratio_applied", "data_source", "spinoff_detected", "horizon_reached")


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
    batches: int = 0
    dispatched: bool = False  # queued as batch tasks: the counts arrive in the ledger when the last one ends

    def line(self) -> str:
        if self.skipped:
            return f"wcb {self.job} run skipped: {self.skipped} (session {self.session})"
        if self.dispatched:
            return (f"wcb {self.job} run {self.run_id} session {self.session}: dispatched {self.batches} batch "
                    f"task(s) over {self.symbols} symbol(s)")
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
    key = _dedupe_key(job, session, now)
    run, batches = _claim_and_plan(job, session, key, now)
    if run is None:
        redispatched = _redispatch(key)
        summary = RunSummary(job, session, skipped="already ran (or running) for this session")
        logger.info(summary.line() + (f"; re-dispatched {redispatched} unfinished batch(es)" if redispatched else ""))
        return summary
    if batches and not _runs_inline():
        _dispatch(batches)
        summary = RunSummary(job, session, run_id=str(run.id), symbols=run.symbols, batches=len(batches),
                             dispatched=True)
        logger.info(summary.line())
        return summary
    return _run_inline(run, batches, progress=progress)


def run_manual(job: str, *, now: datetime | None = None, trigger: str = "manual",
               snapshot_ids: Iterable | None = None, progress: Progress | None = None) -> RunSummary:
    """``manage.py wcb_run`` and the admin action: always runs, in-process (rows still finalize once)."""
    now = now or timezone.now()
    session = target_session(job, now)
    if session is None:
        return RunSummary(job, None, skipped="no completed session")
    ids = list(snapshot_ids) if snapshot_ids is not None else None
    with transaction.atomic():
        run = WcbJobRun.objects.create(job=job, session=session, trigger=trigger, started_at=timezone.now(), as_of=now)
        batches = _plan(run, ids)
    try:
        summary = _run_inline(run, batches, progress=progress, snapshot_ids=ids)
    except Exception as exc:
        record_run(task=JOB_TASKS[job], ok=False, run_id=str(run.id), error=type(exc).__name__)
        raise
    if ids is None:  # a full manual run catches the job up; a recompute of a few rows does not
        record_run(task=JOB_TASKS[job], ok=True, run_id=str(run.id))
    return summary


def run_batch(batch_id: int, *, worker: str = "", snapshot_ids: list | None = None,
              progress: Progress | None = None) -> RunSummary | None:
    """One batch of a run (the body of the ``wcb_job_batch`` task); safe to call twice.

    Returns the run's summary when this batch was the last one to finish."""
    batch = WcbJobBatch.objects.select_related("run").filter(pk=batch_id).first()
    if batch is None:  # its run was re-planned by a takeover: the new batches cover its rows
        return None
    run = batch.run
    if batch.status == WcbJobBatch.Status.PENDING:
        WcbJobBatch.objects.filter(pk=batch.pk).update(attempts=F("attempts") + 1, worker=worker[:200],
                                                       started_at=timezone.now())
        try:
            _work(batch, run, snapshot_ids=snapshot_ids, progress=progress)
        except Exception as exc:  # the ledger says so; rows stay pending for the next run
            logger.exception("wcb %s run %s batch %s failed", run.job, run.id, batch.index)
            WcbJobBatch.objects.filter(pk=batch.pk, status=WcbJobBatch.Status.PENDING).update(
                status=WcbJobBatch.Status.FAILED, finished_at=timezone.now(), error=repr(exc)[:2000])
            _finish_run(run.pk)
            raise
    return _finish_run(run.pk)


def _runs_inline() -> bool:
    """Eager mode (tests, no broker) runs the batches in this process instead of queueing them."""
    return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))


def _dedupe_key(job: str, session: date, now: datetime) -> str:
    """EOD: one run per session. EOM: one run per fire day (catch-up days may follow the first)."""
    if job == "eod":
        return f"eod:{session.isoformat()}"
    return f"eom:{session.isoformat()}:{now.astimezone(dt_timezone.utc).date().isoformat()}"


def _claim_and_plan(job: str, session: date, key: str, now: datetime):
    """The ledger row and its batches, in one transaction: a fire killed here leaves nothing behind."""
    started = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = WcbJobRun.objects.create(job=job, session=session, trigger="beat", dedupe_key=key,
                                               started_at=started, as_of=now)
        except IntegrityError:
            run = _take_over(key, started, now)
            if run is None:
                return None, []
        return run, _plan(run, None)


def _take_over(key: str, started: datetime, now: datetime) -> WcbJobRun | None:
    existing = WcbJobRun.objects.filter(dedupe_key=key).first()
    if existing is None:
        return None
    retryable = existing.status in (WcbJobRun.Status.PARTIAL, WcbJobRun.Status.FAILED) or (
        existing.status == WcbJobRun.Status.RUNNING and existing.started_at < started - STALE_RUN)
    if not retryable:
        return None
    # Conditional takeover: of two fires racing here, exactly one updates the row.
    taken = WcbJobRun.objects.filter(pk=existing.pk, status=existing.status, started_at=existing.started_at).update(
        status=WcbJobRun.Status.RUNNING, started_at=started, finished_at=None, error="", as_of=now,
        finalized=0, pending=0, failed=0)
    if not taken:
        return None
    WcbJobBatch.objects.filter(run=existing).delete()  # the new plan covers every row still pending
    existing.refresh_from_db()
    return existing


def _plan(run: WcbJobRun, snapshot_ids) -> list[WcbJobBatch]:
    """Cut the pending symbols into batches of about ``TASK_ROWS`` rows (a symbol is never split)."""
    groups = list(_pending_rows(run.job, run.session, snapshot_ids).order_by("symbol").values("symbol")
                  .annotate(n=Count("id"), first=Min("close_timestamp_utc")).values_list("symbol", "n", "first"))
    size = _task_rows()
    chunks: list[list] = []
    rows_in_last = size
    for symbol, n, first in groups:
        if rows_in_last >= size:
            chunks.append([])
            rows_in_last = 0
        chunks[-1].append([symbol, n, first.isoformat()])
        rows_in_last += n
    batches = WcbJobBatch.objects.bulk_create(
        [WcbJobBatch(run=run, index=i, symbols=chunk) for i, chunk in enumerate(chunks)])
    WcbJobRun.objects.filter(pk=run.pk).update(symbols=len(groups), batches=len(batches))
    run.symbols, run.batches = len(groups), len(batches)
    if not batches:  # nothing pending: the run is complete as planned
        _finish_run(run.pk)
    return batches


def _task_rows() -> int:
    return int(getattr(settings, "WCB_TASK_ROWS", 0) or TASK_ROWS)


def _dispatch(batches: list[WcbJobBatch]) -> None:
    from .tasks import wcb_job_batch

    ids = [b.pk for b in batches]
    # After the plan commits (it has by now in autocommit; on_commit says so inside an outer transaction).
    transaction.on_commit(lambda: [wcb_job_batch.delay(pk) for pk in ids])


def _redispatch(key: str) -> int:
    """A fire that found its run still running: queue the run's unfinished batches again (no-op if done)."""
    if _runs_inline():
        return 0
    open_batches = list(WcbJobBatch.objects.filter(run__dedupe_key=key, run__status=WcbJobRun.Status.RUNNING,
                                                   status=WcbJobBatch.Status.PENDING))
    _dispatch(open_batches)
    return len(open_batches)


def _run_inline(run: WcbJobRun, batches: list[WcbJobBatch], *, progress: Progress | None,
                snapshot_ids=None) -> RunSummary:
    tracker = _Tracker(progress, sum(entry[1] for b in batches for entry in b.symbols), run.symbols)
    if tracker.big:
        tracker.say(f"{tracker.total} pending row(s) across {run.symbols} symbol(s); fetching market data")
    finished = None
    for batch in batches:
        finished = run_batch(batch.pk, worker="inline", snapshot_ids=snapshot_ids, progress=tracker)
    return finished or _summary_of(WcbJobRun.objects.get(pk=run.pk))


class _Tracker:
    """Progress lines for a run worth watching (more rows than one chunk)."""

    def __init__(self, progress: Progress | None, total: int, symbols: int):
        self.progress, self.total, self.symbols = progress, total, symbols
        self.big = bool(progress) and total > BATCH_SIZE
        self.fetched = self.rows = 0

    def say(self, line: str) -> None:
        if self.big:
            self.progress(line)

    def symbol_fetched(self) -> None:
        self.fetched += 1
        if self.fetched % 100 == 0:
            self.say(f"market data: {self.fetched}/{self.symbols} symbols")

    def rows_done(self, n: int) -> None:
        self.rows += n
        self.say(f"rows: {self.rows}/{self.total}")


def _pending_rows(job: str, session: date, snapshot_ids):
    cutoff = nyse.session_close_utc(session)
    qs = WcbSnapshot.objects.filter(tracking_horizon=JOBS[job], horizon_reached=False, close_timestamp_utc__lt=cutoff)
    if snapshot_ids is not None:
        qs = qs.filter(pk__in=list(snapshot_ids))
    return qs


def _fetch(symbols: list[str], job: str, tracker) -> tuple[dict, list[str]]:
    """Market data once per symbol, outside any transaction; failed symbols' rows stay pending."""
    data: dict[str, market_data.MarketData] = {}
    failed: list[str] = []
    for symbol, first, session in symbols:
        try:
            start = nyse.effective_first_session(first)
            data[symbol] = market_data.get_market_data(symbol, start, max(start, session))
        except nyse.NoTradingDay as exc:  # revision §12: skip the rows, ERROR
            logger.error("wcb %s: no next trading day for the rows of %s (%s); skipped", job, symbol, exc)
            failed.append(symbol)
        except market_data.MarketDataUnavailable as exc:  # revision §12: provider 5xx at job time, ERROR
            logger.error("wcb %s: market data unavailable for %s (%s); its rows stay pending", job, symbol, exc)
            failed.append(symbol)
        except Exception:
            logger.exception("wcb %s: market data for %s could not be read; its rows stay pending", job, symbol)
            failed.append(symbol)
        if tracker:
            tracker.symbol_fetched()
    return data, failed


def _work(batch: WcbJobBatch, run: WcbJobRun, *, snapshot_ids, progress) -> None:
    now = run.as_of or run.started_at
    planned = {symbol: n for symbol, n, _ in batch.symbols}
    known_failed = set(batch.failed_symbols)
    base = _pending_rows(run.job, run.session, snapshot_ids)
    wanted = [(symbol, datetime.fromisoformat(first), run.session) for symbol, _, first in batch.symbols
              if symbol not in known_failed]
    data, newly_failed = _fetch(wanted, run.job, progress)
    if newly_failed:
        _record_failed_symbols(batch.pk, newly_failed, planned, base)
    rows_qs = _chunk_rows(base, [symbol for symbol, _, _ in batch.symbols if symbol in data])
    memo: dict = {}
    while data:
        with transaction.atomic():
            # Two deliveries of this task take turns here, each reading the other's committed cursor.
            state = WcbJobBatch.objects.select_for_update().values("status", "last_symbol", "last_pk").get(pk=batch.pk)
            if state["status"] != WcbJobBatch.Status.PENDING:
                return
            qs = _after(rows_qs, state["last_symbol"], state["last_pk"])
            # SKIP LOCKED: rows another run is finalizing right now are its job, not ours.
            rows = list(qs.select_for_update(skip_locked=True)[:BATCH_SIZE])
            if not rows:
                break
            updates, counts = _compute_batch(rows, data, now, memo)
            _write_batch(updates, now)
            WcbJobBatch.objects.filter(pk=batch.pk).update(
                last_symbol=rows[-1][_SYMBOL], last_pk=rows[-1][_ID], finalized=F("finalized") + counts[0],
                pending=F("pending") + counts[1], failed=F("failed") + counts[2])
        if progress:
            progress.rows_done(len(rows))
        if len(rows) < BATCH_SIZE:  # the last chunk (or the rest is locked by another run: its rows)
            break
    WcbJobBatch.objects.filter(pk=batch.pk, status=WcbJobBatch.Status.PENDING).update(
        status=WcbJobBatch.Status.DONE, finished_at=timezone.now())


def _chunk_rows(base, symbols: list[str]):
    """A batch's pending rows in (symbol, id) order: one range of ``idx_wcb_pending_symbol``.

    ``symbols`` come in the plan's order, the database's (its collation, not Python's: with a
    linguistic collation "BRK.B" sorts after "BRKA"), so the first and last bound the range.
    The bounds keep each chunk's index scan inside the batch's own symbols (a batch's symbols
    are contiguous in the plan's order), so a chunk reads about its own rows,
    never the rows of other batches or the index entries of rows finalized before it. On
    PostgreSQL each row also carries its ``ctid``: the UPDATE finds the rows this transaction
    has locked by their physical address (a locked row cannot move), not by a join on the key.
    """
    qs = base.filter(symbol__in=symbols)
    if symbols:
        qs = qs.filter(symbol__gte=symbols[0], symbol__lte=symbols[-1])
    fields = _ROW_FIELDS
    if connection.vendor == "postgresql":
        # The id and the close time travel as text: the id only goes back into the UPDATE (and the
        # log), and the close time's text parses in C (``_closed_at``), where the driver's
        # time-zone-aware loader runs in Python for every row.
        qs = qs.annotate(tid=RawSQL("ctid::text", (), output_field=CharField()),
                         id_text=RawSQL("closed_position_wcb_snapshots.id::text", (), output_field=CharField()),
                         closed_text=RawSQL("(closed_position_wcb_snapshots.close_timestamp_utc AT TIME ZONE 'UTC')"
                                            "::text", (), output_field=CharField()))
        fields = tuple({"id": "id_text", "close_timestamp_utc": "closed_text"}.get(f, f) for f in _ROW_FIELDS)
        fields = (*fields, "tid")
    return qs.order_by("symbol", "pk").values_list(*fields)


def _closed_at(value) -> datetime:
    """A row's close time: a datetime, or (PostgreSQL, ``_chunk_rows``) its UTC wall time as text."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=dt_timezone.utc)
    return value


def _after(qs, symbol: str, pk):
    """Rows after the keyset cursor (symbol, id), as one row comparison the index can start from."""
    if pk is None:
        return qs
    table = connection.ops.quote_name(WcbSnapshot._meta.db_table)
    pk_value = WcbSnapshot._meta.pk.get_db_prep_value(pk, connection)
    return qs.filter(RawSQL(f"({table}.symbol, {table}.id) > (%s, %s)", (symbol, pk_value),
                            output_field=BooleanField()))


def _record_failed_symbols(batch_pk: int, symbols: list[str], planned: dict, base) -> None:
    """Failed symbols are decided once per batch: their rows count as failed once, whatever redelivery brings."""
    with transaction.atomic():
        state = WcbJobBatch.objects.select_for_update().values("last_symbol", "last_pk", "failed_symbols").get(
            pk=batch_pk)
        new = [s for s in symbols if s not in state["failed_symbols"]]
        if state["last_pk"] is None:
            failed_rows = sum(planned[s] for s in new)
        else:  # a redelivery: rows of these symbols up to the cursor were already written and counted
            failed_rows = _after(base.filter(symbol__in=new), state["last_symbol"], state["last_pk"]).count()
        WcbJobBatch.objects.filter(pk=batch_pk).update(failed_symbols=[*state["failed_symbols"], *new],
                                                       failed=F("failed") + failed_rows)


def _finish_run(run_pk) -> RunSummary | None:
    """When every batch is over, add them up into the ledger (exactly once: under the run row's lock)."""
    with transaction.atomic():
        run = WcbJobRun.objects.select_for_update().filter(pk=run_pk, status=WcbJobRun.Status.RUNNING).first()
        if run is None:
            return None
        batches = list(WcbJobBatch.objects.filter(run_id=run_pk).values_list(
            "status", "finalized", "pending", "failed", "failed_symbols", "error"))
        if any(b[0] == WcbJobBatch.Status.PENDING for b in batches):
            return None
        failed_symbols = sorted({s for b in batches for s in b[4]})
        errors = [b[5] for b in batches if b[0] == WcbJobBatch.Status.FAILED]
        if errors:
            status, error = WcbJobRun.Status.FAILED, "; ".join(errors)[:2000]
        elif failed_symbols:
            status, error = WcbJobRun.Status.PARTIAL, ("provider unavailable for: " + ", ".join(failed_symbols))[:2000]
        else:
            status, error = WcbJobRun.Status.SUCCEEDED, ""
        run.status, run.error, run.finished_at = status, error, timezone.now()
        run.finalized, run.pending, run.failed = (sum(b[i] for b in batches) for i in (1, 2, 3))
        run.save(update_fields=["status", "error", "finished_at", "finalized", "pending", "failed"])
    summary = _summary_of(run)
    for outcome in ("finalized", "failed"):
        WCB_ROWS.labels(run.job, outcome).inc(getattr(summary, outcome))
    logger.info(summary.line(), extra={"wcb_job": run.job, "wcb_run_id": str(run.id)})
    return summary


def _summary_of(run: WcbJobRun) -> RunSummary:
    failed_symbols = []
    if run.error.startswith("provider unavailable for: "):
        failed_symbols = run.error.removeprefix("provider unavailable for: ").split(", ")
    return RunSummary(run.job, run.session, run_id=str(run.id), finalized=run.finalized, pending=run.pending,
                      failed=run.failed, symbols=run.symbols, batches=run.batches, failed_symbols=failed_symbols)


def position_input(row: dict, horizon: str | None = None) -> PositionInput:
    return PositionInput(
        symbol=row["symbol"], asset_type=row["asset_type"], quantity=row["position_size_signed"],
        cost_basis=row["cost_basis"], close_price=row["close_price"], close_commission=row["close_commission"],
        multiplier=row["multiplier"], closed_at=row["close_timestamp_utc"],
        horizon=horizon or row["tracking_horizon"])


def _compute_batch(rows: list[tuple], data: dict, now: datetime, memo: dict):
    """Compute each row; the market side (horizon bar, splits, dividends) once per window.

    Rows with the same symbol, close-date, first session, horizon and kind (equity or
    option) share everything but their own arithmetic, so ``compute`` runs once per
    window (memoised across the batch's chunks) and every row gets actual / would-have /
    delta from the same formulas (``compute.actual_pnl_of``, ``compute.would_have_pnl_of``)
    with its own numbers: no per-row PositionInput, no per-row window.
    """
    updates = []
    finalized = pending = failed = 0
    for row in rows:
        sid, symbol, asset_type, quantity, cost, close, commission, mult, closed_at, horizon = row[:10]
        tid = row[10:]  # PostgreSQL: (ctid,), carried to the UPDATE
        try:
            closed_at = _closed_at(closed_at)
            key = (symbol, *nyse.close_day_and_first_session(closed_at), horizon, asset_type in OPTION_ASSET_TYPES)
            window = memo.get(key)
            if window is None:
                p = PositionInput(symbol=symbol, asset_type=asset_type, quantity=quantity, cost_basis=cost,
                                  close_price=close, close_commission=commission, multiplier=mult,
                                  closed_at=closed_at, horizon=horizon)
                window = memo[key] = _window(p, data[symbol], now)
            result, factors, fits = window
            actual = actual_pnl_of(close, cost, quantity, mult, commission)
            would = (would_have_pnl_of(result.horizon_price, *factors, cost, quantity, mult, commission)
                     if factors else None)
            delta = would - actual if would is not None else None
        except nyse.NoTradingDay as exc:  # revision §12: "no next trading day" skips the row, ERROR
            logger.error("wcb: snapshot %s (%s): no next trading day (%s); skipped", sid, symbol, exc)
            failed += 1
            continue
        except Exception:
            logger.exception("wcb: snapshot %s (%s) could not be computed; left pending", sid, symbol)
            failed += 1
            continue
        if result.held_dividend_ex_date is not None:  # revision §12: the one-session dividend lag, WARNING
            logger.warning("wcb: snapshot %s (%s) held open: a dividend went ex on %s, its horizon session; "
                           "re-evaluated after the next session", sid, symbol, result.held_dividend_ex_date.isoformat())
        if not (fits and _fits_row(would, actual, delta)):
            logger.error("wcb: snapshot %s (%s) has values beyond the column precisions; left pending", sid, symbol)
            failed += 1
            continue
        if result.horizon_reached:
            updates.append((sid, result.horizon_price, result.horizon_timestamp_utc, would, actual, delta,
                            result.dividends_in_window, result.split_ratio_applied, result.data_source,
                            result.spinoff_detected, True, *tid))
            finalized += 1
        else:
            # Still pending (no data yet, missing horizon bar, dividend lag): only provenance moves.
            updates.append((sid, None, None, None, None, None, None, None, result.data_source,
                            result.spinoff_detected, False, *tid))
            pending += 1
    return updates, (finalized, pending, failed)


def _window(p: PositionInput, data, now: datetime) -> tuple:
    """(the window's result, its r/D factors or None when there is no would-have, whether its own values fit)."""
    result = compute(p, data, as_of=now)
    factors = horizon_factors(p, data, result.horizon_session) if result.would_have_pnl is not None else None
    fits = _fits(result.horizon_price, _PRICE_LIMIT) and _fits(result.dividends_in_window, _DIVIDENDS_LIMIT) and \
        _fits(result.split_ratio_applied, _RATIO_LIMIT)
    return result, factors, fits


# The NUMERIC columns' bounds (design §3.1): a value too wide would fail the whole chunk's UPDATE.
_PRICE_LIMIT, _PNL_LIMIT, _DIVIDENDS_LIMIT, _RATIO_LIMIT = Decimal(10) ** 6, Decimal(10) ** 8, Decimal(10) ** 6, \
    Decimal(10) ** 4


def _fits(value, limit: Decimal) -> bool:
    return value is None or abs(value) < limit


def _fits_row(would, actual, delta) -> bool:
    return _fits(would, _PNL_LIMIT) and _fits(actual, _PNL_LIMIT) and _fits(delta, _PNL_LIMIT)


def _write_batch(updates: list[tuple], now: datetime) -> None:
    if not updates:
        return
    if connection.vendor == "postgresql":
        _write_batch_pg(updates, now)
    else:
        _write_batch_portable(updates, now)


def _write_batch_pg(updates: list[tuple], now: datetime) -> None:
    """One statement for the chunk: a column of values per field, ``unnest`` turns them into rows.

    Each value row finds its snapshot by ``ctid`` (the row was locked by this transaction's
    claim, so its address holds) and checks the id as well. The planner prices a random heap
    fetch at several sequential pages, so on a table of some 100k rows it hashed a sequential
    scan of the whole table for every chunk (whether joined on ``id``, with or without an
    ``id = ANY(…)`` hint, or on ``ctid``): quadratic in the table's size. ``enable_seqscan``
    off for this transaction leaves it the TID scan, about one page visit per row.

    The arrays travel as text literals built here: psycopg's client-side quoting of a
    1,000-element array (a regular expression per element) cost more than the UPDATE.
    """
    columns = [_pg_array(column, kind) for column, kind in zip(zip(*updates), _PG_ARRAYS)]
    arrays = ", ".join(f"%s::{kind}[]" for kind in _PG_ARRAYS)
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
        FROM unnest({arrays}) AS v(id, {", ".join(_WRITE_FIELDS)}, tid)
        WHERE s.ctid = v.tid AND s.id = v.id AND NOT s.horizon_reached
    """
    with connection.cursor() as cursor:
        # Both for this transaction only. synchronous_commit: a chunk lost in a crash leaves its rows and the
        # batch cursor as they were (one transaction), so the redelivered batch redoes it; no commit waits on disk.
        cursor.execute("SELECT set_config('enable_seqscan', 'off', true), set_config('synchronous_commit', 'off', true)")
        cursor.execute(sql, [now, now, *columns])


# The PostgreSQL type of each column of an update tuple: id, the _WRITE_FIELDS, the row's ctid.
_PG_ARRAYS = ("uuid", "numeric", "timestamptz", "numeric", "numeric", "numeric", "numeric", "numeric", "text",
              "boolean", "boolean", "tid")


def _quoted(value) -> str:  # text may hold any character
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


_PG_FORMAT = {"boolean": lambda value: "t" if value else "f", "timestamptz": datetime.isoformat, "text": _quoted,
              "tid": lambda value: f'"{value}"',  # "(page,item)": digits, a comma and parentheses only
              "uuid": str, "numeric": str}  # Decimal's str is a valid numeric literal


def _pg_array(values, kind: str) -> str:
    """A PostgreSQL array literal, ``{a,b,NULL}``, for one column of the chunk."""
    fmt = _PG_FORMAT[kind]
    return "{" + ",".join(["NULL" if value is None else fmt(value) for value in values]) + "}"


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
