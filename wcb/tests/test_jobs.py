import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import concurrently
from wcb import jobs, market_data
from wcb.models import WcbJobRun, WcbSnapshot
from wcb.tasks import wcb_eod_job, wcb_eom_job

from .conftest import as_of, close_for

APR15, APR16, APR30, MAY1 = date(2026, 4, 15), date(2026, 4, 16), date(2026, 4, 30), date(2026, 5, 1)


@pytest.fixture
def as_alpaca(monkeypatch):
    """The fixture files served as if Alpaca answered (the dividend-lag rule applies to remote data)."""
    import dataclasses

    real = market_data.get_market_data
    monkeypatch.setattr(market_data, "get_market_data",
                        lambda symbol, start, end: dataclasses.replace(real(symbol, start, end), source="alpaca"))


def test_eod_finalizes_with_the_contract_arithmetic(market, record):
    position = record()  # 10 × (110 − 90) − 1 = 199
    summary = jobs.run_manual("eod", now=as_of(APR15))
    assert (summary.finalized, summary.pending, summary.failed) == (1, 0, 0)
    snap = WcbSnapshot.objects.get(position=position)
    price = close_for(APR15)
    assert snap.horizon_reached and snap.data_source == "fixture"
    assert snap.horizon_price == price
    assert snap.horizon_timestamp_utc == datetime(2026, 4, 15, 20, 0, tzinfo=UTC)
    assert snap.actual_pnl == Decimal("199")
    assert snap.would_have_pnl == (price - 90) * 10 - 1
    assert snap.delta_pnl == snap.would_have_pnl - snap.actual_pnl
    assert snap.last_computed_at is not None


def test_rows_whose_horizon_has_not_closed_stay_untouched(market, record):
    record(closed_at=datetime(2026, 4, 16, 21, 0, tzinfo=UTC))  # after the 16th's close → horizon the 17th
    summary = jobs.run_manual("eod", now=as_of(APR16))
    assert (summary.finalized, summary.pending) == (0, 0)
    assert WcbSnapshot.objects.get().horizon_reached is False


def test_rerunning_never_changes_a_finalized_row(market, record, settings):
    record()
    jobs.run_manual("eod", now=as_of(APR15))
    before = WcbSnapshot.objects.values().get()
    market.write("ACME", price=lambda d: Decimal(500))  # the provider now says something else
    summary = jobs.run_manual("eod", now=as_of(date(2026, 4, 20)))
    assert summary.finalized == 0
    assert WcbSnapshot.objects.values().get() == before


def test_market_data_is_fetched_once_per_symbol(market, record, fetches):
    market.write("BETA")
    for _ in range(5):
        record()
        record(symbol="BETA")
    summary = jobs.run_manual("eod", now=as_of(APR15))
    assert summary.finalized == 10
    assert sorted(fetches) == ["ACME", "BETA"]


def _queries_for_run(rows: int, record, symbols=("ACME",)) -> int:
    for i in range(rows):
        record(symbol=symbols[i % len(symbols)])
    with CaptureQueriesContext(connection) as ctx:
        assert jobs.run_manual("eod", now=as_of(APR15)).finalized == rows
    WcbSnapshot.objects.all().delete()
    return len(ctx.captured_queries)


# Measured (savepoints included, as tests run in a transaction). PostgreSQL's chunk has one statement more:
# set_config(enable_seqscan off, synchronous_commit off) before its UPDATE (see jobs._write_batch_pg).
_PG = 1 if connection.vendor == "postgresql" else 0
RUN_QUERIES = 21 + _PG  # ledger row, grouped count, batch rows, one task with one chunk, ledger sum, job-run record
CHUNK_QUERIES = 6 + _PG  # savepoint, batch-row lock, SKIP LOCKED claim, one UPDATE, batch counters, release
TASK_QUERIES = 13 + _PG  # one more batch task: load, attempt, one chunk, done, the "last one?" check


def test_a_run_costs_a_fixed_number_of_queries_with_one_row_or_many(market, record):
    assert _queries_for_run(1, record) == RUN_QUERIES
    assert _queries_for_run(200, record) == RUN_QUERIES  # one chunk: nothing per row


def test_queries_grow_by_chunk_of_rows_never_per_row(market, record, monkeypatch):
    monkeypatch.setattr(jobs, "BATCH_SIZE", 10)
    assert _queries_for_run(55, record) == RUN_QUERIES + 5 * CHUNK_QUERIES  # 6 chunks


def test_queries_grow_by_batch_task_never_per_symbol(market, record, settings):
    market.write("BETA")
    assert _queries_for_run(40, record, symbols=("ACME", "BETA")) == RUN_QUERIES  # one task, both symbols
    settings.WCB_TASK_ROWS = 1  # fan-out: one task per symbol
    assert _queries_for_run(40, record, symbols=("ACME", "BETA")) == RUN_QUERIES + TASK_QUERIES


def test_provider_failure_leaves_rows_pending_for_the_next_run(market, record, monkeypatch):
    record()

    def down(symbol, start, end):
        raise market_data.MarketDataUnavailable("HTTP 503")

    real = market_data.get_market_data
    monkeypatch.setattr(market_data, "get_market_data", down)
    summary = jobs.run_manual("eod", now=as_of(APR15))
    assert (summary.finalized, summary.failed) == (0, 1)
    snap = WcbSnapshot.objects.get()
    assert snap.horizon_reached is False and snap.data_source is None
    assert WcbJobRun.objects.get().status == WcbJobRun.Status.PARTIAL
    monkeypatch.setattr(market_data, "get_market_data", real)
    assert jobs.run_manual("eod", now=as_of(APR16)).finalized == 1


def test_no_market_data_marks_unavailable_and_stays_pending(market, record):
    record(symbol="GONE")  # no fixture file: delisted / unknown
    summary = jobs.run_manual("eod", now=as_of(APR15))
    assert (summary.finalized, summary.pending) == (0, 1)
    snap = WcbSnapshot.objects.get()
    assert snap.data_source == "unavailable" and snap.horizon_reached is False


def test_dividend_on_the_horizon_session_waits_one_session(market, record, as_alpaca):
    market.write("ACME", actions=[{"ca_type": "dividend", "ex_date": "2026-04-16", "cash_amount": "0.50"}])
    record(closed_at=datetime(2026, 4, 16, 15, 0, tzinfo=UTC))  # horizon 2026-04-16, ex-date the 16th... not counted
    record(closed_at=datetime(2026, 4, 15, 21, 0, tzinfo=UTC))  # after the 15th's close → horizon the 16th, counted
    first = jobs.run_manual("eod", now=as_of(APR16))
    assert (first.finalized, first.pending) == (1, 1)
    second = jobs.run_manual("eod", now=as_of(date(2026, 4, 17)))
    assert second.finalized == 1
    assert sorted(WcbSnapshot.objects.values_list("dividends_in_window", flat=True)) == [Decimal(0), Decimal("0.5")]


def test_eom_finalizes_monthly_rows_at_month_end(market, customer, record):
    from wcb.models import WcbSetting

    WcbSetting.objects.create(customer=customer, tracking_horizon="monthly")
    position = record()
    assert jobs.run_manual("eom", now=as_of(date(2026, 4, 29))).finalized == 0
    assert jobs.run_manual("eod", now=as_of(APR30)).finalized == 0  # EOD never touches monthly rows
    assert jobs.run_manual("eom", now=as_of(MAY1)).finalized == 1
    snap = WcbSnapshot.objects.get(position=position)
    assert snap.horizon_price == close_for(APR30)
    assert snap.horizon_timestamp_utc == datetime(2026, 4, 30, 20, 0, tzinfo=UTC)


def test_a_duplicate_beat_fire_does_nothing(market, record, fetches):
    record()
    first = wcb_eod_job.apply(kwargs={"as_of": "2026-04-15"}).get()
    second = wcb_eod_job.apply(kwargs={"as_of": "2026-04-15"}).get()
    assert first["finalized"] == 1
    assert second["skipped"] and second["finalized"] == 0
    assert fetches == ["ACME"]
    assert WcbJobRun.objects.filter(job="eod", status="succeeded").count() == 1


def test_a_missed_day_is_caught_up(market, record):
    record()  # horizon 2026-04-15; the 15th's fire never happened
    record(closed_at=datetime(2026, 4, 16, 15, 0, tzinfo=UTC))
    summary = jobs.run_scheduled("eod", now=datetime(2026, 4, 16, 22, 0, tzinfo=UTC))
    assert summary.finalized == 2


def test_eom_beat_works_only_on_the_first_trading_day(market, customer, record):
    from wcb.models import WcbSetting

    WcbSetting.objects.create(customer=customer, tracking_horizon="monthly")
    record()
    mid_month = wcb_eom_job.apply(kwargs={"as_of": "2026-04-20"}).get()
    assert mid_month["skipped"] == "not the first trading day of the month"
    # 02:00 UTC on Friday 2026-05-01, the first session of May.
    first_day = jobs.run_scheduled("eom", now=datetime(2026, 5, 1, 2, 0, tzinfo=UTC))
    assert first_day.finalized == 1 and first_day.session == APR30
    again = jobs.run_scheduled("eom", now=datetime(2026, 5, 1, 2, 5, tzinfo=UTC))
    assert again.skipped


def test_wcb_run_command_prints_one_summary_line(market, record, capsys):
    record()
    record(symbol="GONE")
    call_command("wcb_run", "eod", "--as-of", "2026-04-15")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("finalized=1 pending=1 failed=0")


def test_wcb_run_rejects_a_bad_date(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("wcb_run", "eod", "--as-of", "15/04/2026")


def test_periodic_tasks_are_scheduled(db):
    from django_celery_beat.models import PeriodicTask

    tasks = {t.task: t.crontab for t in PeriodicTask.objects.filter(task__startswith="wcb.")}
    assert (tasks["wcb.tasks.wcb_eod_job"].hour, tasks["wcb.tasks.wcb_eod_job"].minute) == ("22", "0")
    assert (tasks["wcb.tasks.wcb_eom_job"].hour, tasks["wcb.tasks.wcb_eom_job"].minute) == ("2", "0")
    assert "wcb.tasks.wcb_retention_prune" in tasks


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_jobs_at_once_finalize_each_row_exactly_once(market, record, monkeypatch):
    for i in range(300):
        record(symbol="ACME" if i % 2 else "BETA")
    market.write("BETA")
    monkeypatch.setattr(jobs, "BATCH_SIZE", 20)
    barrier = threading.Barrier(2, timeout=20)
    real = market_data.get_market_data
    seen = set()

    def synchronized(symbol, start, end):
        if threading.get_ident() not in seen:
            seen.add(threading.get_ident())
            barrier.wait()  # both runs have listed the same pending rows before either writes
        return real(symbol, start, end)

    monkeypatch.setattr(market_data, "get_market_data", synchronized)
    results = concurrently(lambda: jobs.run_manual("eod", now=as_of(APR15)), 2, start_together=False)
    assert sum(r.finalized for r in results) == 300
    assert WcbSnapshot.objects.filter(horizon_reached=True).count() == 300


def test_merge_reattribution_keeps_the_job_and_render_working(market, record, customer, other_customer, api_for,
                                                              flags):
    """Revision §4.4: the merge engine moves positions and snapshots; jobs never filter by customer."""
    from wcb.models import ClosedPosition

    position = record(who=other_customer)  # the secondary account's in-progress row
    ClosedPosition.objects.filter(customer=other_customer).update(customer=customer)
    WcbSnapshot.objects.filter(user_id=other_customer.id).update(user_id=customer.id)
    assert jobs.run_manual("eod", now=as_of(APR15)).finalized == 1
    flags.on("FLAG_WCB_ENABLED")
    url = f"/api/positions/{position.id}/what-could-have-been"
    assert api_for(customer, "pro").get(url).status_code == 200
    assert api_for(other_customer, "pro").get(url).json() == {"error": "position_not_found"}


def test_a_row_too_wide_for_its_columns_fails_alone(market, record):
    market.write("HUGE", price=lambda d: Decimal("999999"))
    record(symbol="HUGE", quantity=Decimal("9000"), cost_basis=Decimal("1"), close_price=Decimal("1"))
    record()
    summary = jobs.run_manual("eod", now=as_of(APR15))
    assert (summary.finalized, summary.failed) == (1, 1)
    assert WcbSnapshot.objects.get(symbol="HUGE").horizon_reached is False


def test_eom_row_held_by_the_dividend_lag_finalizes_on_the_next_day(market, customer, record, as_alpaca):
    from wcb.models import WcbSetting

    market.write("ACME", actions=[{"ca_type": "dividend", "ex_date": "2026-04-30", "cash_amount": "0.40"}])
    WcbSetting.objects.create(customer=customer, tracking_horizon="monthly")
    record()
    first_day = jobs.run_scheduled("eom", now=datetime(2026, 5, 1, 2, 0, tzinfo=UTC))
    assert (first_day.finalized, first_day.pending) == (0, 1)  # Apr 30 ex-date: wait for the next session
    next_day = jobs.run_scheduled("eom", now=datetime(2026, 5, 4, 2, 0, tzinfo=UTC))
    assert next_day.finalized == 1
    assert WcbSnapshot.objects.get().dividends_in_window == Decimal("0.4")
    # Nothing pending any more: later catch-up days do nothing.
    assert jobs.run_scheduled("eom", now=datetime(2026, 5, 5, 2, 0, tzinfo=UTC)).skipped


def test_a_missed_eom_fire_is_caught_up_on_the_next_session(market, customer, record):
    from wcb.models import WcbSetting

    WcbSetting.objects.create(customer=customer, tracking_horizon="monthly")
    record()
    assert jobs.run_scheduled("eom", now=datetime(2026, 5, 4, 2, 0, tzinfo=UTC)).finalized == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_beat_fires_at_once_run_the_job_once(market, record):
    record()
    results = concurrently(lambda: jobs.run_scheduled("eod", now=datetime(2026, 4, 15, 22, 0, tzinfo=UTC)), 2)
    assert sorted(bool(r.skipped) for r in results) == [False, True]
    assert sum(r.finalized for r in results) == 1
    assert WcbJobRun.objects.count() == 1


def test_one_log_line_per_run_and_progress_for_big_runs(market, record, monkeypatch, caplog, capsys):
    import logging

    monkeypatch.setattr(jobs, "BATCH_SIZE", 2)
    for _ in range(5):
        record()
    with caplog.at_level(logging.INFO, logger="wcb.jobs"):
        call_command("wcb_run", "eod", "--as-of", "2026-04-15")
    lines = [r.getMessage() for r in caplog.records if r.name == "wcb.jobs"]
    run = WcbJobRun.objects.get()
    assert lines == [f"wcb eod run {run.id} session 2026-04-15: finalized=5 pending=0 failed=0 symbols=1"]
    captured = capsys.readouterr()
    assert "rows: 2/5" in captured.err and "rows: 5/5" in captured.err
    assert captured.out.strip().startswith("finalized=5 pending=0 failed=0")


# --- fan-out: batch tasks, redelivery ---------------------------------------------------------------------


@pytest.fixture
def queued(settings, django_capture_on_commit_callbacks):
    """Runs as in production: batches are queued as tasks (captured here), not run inline."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.WCB_TASK_ROWS = 1  # one symbol per task

    def fire(**kwargs):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            summary = jobs.run_scheduled("eod", now=datetime(2026, 4, 15, 22, 0, tzinfo=UTC), **kwargs)
        return summary, callbacks

    return fire


def _batch_ids():
    from wcb.models import WcbJobBatch

    return list(WcbJobBatch.objects.order_by("index").values_list("pk", flat=True))


def test_a_scheduled_run_fans_out_and_the_last_batch_writes_the_summary(market, record, queued, caplog):
    import logging

    from wcb.tasks import wcb_job_batch

    market.write("BETA")
    market.write("GAMMA")
    for symbol in ("ACME", "BETA", "GAMMA", "ACME"):
        record(symbol=symbol)
    summary, callbacks = queued()
    assert summary.dispatched and (summary.batches, summary.symbols, summary.finalized) == (3, 3, 0)
    assert len(callbacks) == 1
    run = WcbJobRun.objects.get()
    assert run.status == "running"
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="wcb.jobs"):
        for pk in reversed(_batch_ids()):  # any order, any worker
            wcb_job_batch.apply(args=[pk]).get()
    run.refresh_from_db()
    assert (run.status, run.finalized, run.pending, run.failed, run.batches) == ("succeeded", 4, 0, 0, 3)
    assert [r.getMessage() for r in caplog.records if r.name == "wcb.jobs"] == [
        f"wcb eod run {run.id} session 2026-04-15: finalized=4 pending=0 failed=0 symbols=3"]
    assert WcbSnapshot.objects.filter(horizon_reached=True).count() == 4


def test_a_batch_killed_mid_way_resumes_after_its_last_commit(market, record, queued, monkeypatch):
    """What a redelivery after SIGKILL does: the committed chunks stay done and counted, once."""
    from wcb.models import WcbJobBatch

    for _ in range(5):
        record()
    queued()
    monkeypatch.setattr(jobs, "BATCH_SIZE", 2)
    real = jobs._compute_batch
    calls = []

    def dies_in_the_second_chunk(*args):
        calls.append(args)
        if len(calls) == 2:  # the first chunk has committed; the second one's transaction dies open
            raise SystemExit("worker lost")  # not an Exception: nothing gets marked failed, like a kill
        return real(*args)

    monkeypatch.setattr(jobs, "_compute_batch", dies_in_the_second_chunk)
    (pk,) = _batch_ids()
    with pytest.raises(SystemExit):
        jobs.run_batch(pk, worker="w1@test")
    batch = WcbJobBatch.objects.get()
    assert (batch.status, batch.finalized, batch.attempts) == ("pending", 2, 1)
    assert WcbSnapshot.objects.filter(horizon_reached=True).count() == 2
    jobs.run_batch(pk, worker="w2@test")  # the redelivery
    batch.refresh_from_db()
    assert (batch.status, batch.finalized, batch.attempts, batch.worker) == ("done", 5, 2, "w2@test")
    run = WcbJobRun.objects.get()
    assert (run.status, run.finalized, run.pending) == ("succeeded", 5, 0)


def test_a_second_delivery_of_a_finished_batch_changes_nothing(market, record, queued):
    record()
    queued()
    (pk,) = _batch_ids()
    jobs.run_batch(pk)
    before = (WcbSnapshot.objects.values().get(), WcbJobRun.objects.values().get())
    jobs.run_batch(pk)
    assert (WcbSnapshot.objects.values().get(), WcbJobRun.objects.values().get()) == before


def test_a_redelivered_fire_queues_the_unfinished_batches_again(market, record, queued):
    market.write("BETA")
    record()
    record(symbol="BETA")
    queued()
    jobs.run_batch(_batch_ids()[0])
    again, callbacks = queued()  # the beat task's message delivered a second time
    assert again.skipped and len(callbacks) == 1
    assert WcbJobRun.objects.count() == 1


def test_a_failing_batch_fails_the_run_and_a_refire_takes_it_over(market, record, queued, monkeypatch, settings):
    record()
    queued()
    monkeypatch.setattr(jobs, "_write_batch", lambda updates, now: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        jobs.run_batch(_batch_ids()[0])
    assert WcbJobRun.objects.get().status == "failed"
    monkeypatch.undo()
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the retry runs inline here
    retry = jobs.run_scheduled("eod", now=datetime(2026, 4, 15, 22, 5, tzinfo=UTC))
    assert (retry.finalized, WcbJobRun.objects.get().status) == (1, "succeeded")


def test_rows_sharing_a_window_get_their_own_arithmetic(market, record):
    """compute() runs once per window; every other row's figures must equal what compute() says for it."""
    from wcb.compute import compute

    market.write("ACME", actions=[{"ca_type": "split", "ex_date": "2026-04-15", "old_rate": 3, "new_rate": 1},
                                  {"ca_type": "dividend", "ex_date": "2026-04-15", "cash_amount": "0.37"}])
    close = datetime(2026, 4, 14, 21, 30, tzinfo=UTC)  # after the 14th's close: window is the 15th
    shapes = [("10", "90", "110", "1", 1, "equity"), ("-7", "101.5", "99.25", "0", 1, "equity"),
              ("3", "12.345678", "13", "0.65", 100, "call"), ("2500", "0.5", "0.75", "4.99", 1, "equity")]
    for q, cost, price, fee, mult, kind in shapes:
        record(quantity=Decimal(q), cost_basis=Decimal(cost), close_price=Decimal(price),
               close_commission=Decimal(fee), multiplier=mult, asset_type=kind, closed_at=close)
    now = as_of(APR15)
    assert jobs.run_manual("eod", now=now).finalized == 4
    for snap in WcbSnapshot.objects.all():
        expected = compute(jobs.position_input({**{f: getattr(snap, f) for f in (
            "symbol", "asset_type", "position_size_signed", "cost_basis", "close_price", "close_commission",
            "multiplier", "close_timestamp_utc", "tracking_horizon")}}), market_data.get_market_data(
            "ACME", APR15, APR15), as_of=now)
        assert (snap.actual_pnl, snap.would_have_pnl, snap.delta_pnl) == (
            expected.actual_pnl, expected.would_have_pnl, expected.delta_pnl)
        assert (snap.split_ratio_applied, snap.dividends_in_window) == (
            expected.split_ratio_applied, expected.dividends_in_window)


def test_close_times_to_the_microsecond_either_side_of_the_close_pick_their_session(market, record):
    """The job reads close times as the database holds them (to the microsecond, as text on
    PostgreSQL): a microsecond before 16:00 New York is that day's session, the close itself the next."""
    before = record(closed_at=datetime(2026, 4, 14, 19, 59, 59, 999999, tzinfo=UTC))  # 15:59:59.999999 EDT
    at_close = record(closed_at=datetime(2026, 4, 14, 20, 0, tzinfo=UTC))
    jobs.run_manual("eod", now=as_of(APR15))
    snaps = {s.position_id: s for s in WcbSnapshot.objects.all()}
    assert snaps[before.id].horizon_timestamp_utc == datetime(2026, 4, 14, 20, 0, tzinfo=UTC)
    assert snaps[at_close.id].horizon_timestamp_utc == datetime(2026, 4, 15, 20, 0, tzinfo=UTC)
