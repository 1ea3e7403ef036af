from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.utils import IntegrityError

from conftest import concurrently
from journal.apps import JournalConfig
from journal.models import TradeSentimentLabel
from journal.services import sentiment_labels_lock_due
from journal.tasks import lock_sentiment_labels
from journal.tests.conftest import make_label, make_order


def test_lock_task_locks_only_labels_whose_trade_closed_24h_ago(customer):
    due = make_label(customer, make_order(customer, exit="101", closed_ago=timedelta(hours=24, minutes=1)))
    recent = make_label(customer, make_order(customer, exit="101", closed_ago=timedelta(hours=23)))
    still_open = make_label(customer, make_order(customer))
    assert lock_sentiment_labels.delay().get() == 1
    due.refresh_from_db(), recent.refresh_from_db(), still_open.refresh_from_db()
    assert due.post_label_locked_at is not None
    assert recent.post_label_locked_at is None and still_open.post_label_locked_at is None


def test_lock_task_is_idempotent_and_batched(customer):
    for _ in range(7):
        make_label(customer, make_order(customer, exit="101", closed_ago=timedelta(days=2)))
    assert sentiment_labels_lock_due(batch_size=3) == 7
    first = dict(TradeSentimentLabel.objects.values_list("id", "post_label_locked_at"))
    assert sentiment_labels_lock_due(batch_size=3) == 0
    assert dict(TradeSentimentLabel.objects.values_list("id", "post_label_locked_at")) == first


def test_lock_task_query_count_is_per_batch_not_per_row(customer, django_assert_max_num_queries):
    for _ in range(20):
        make_label(customer, make_order(customer, exit="101", closed_ago=timedelta(days=2)))
    with django_assert_max_num_queries(8):  # one batch: select ids + update (+ savepoints)
        assert sentiment_labels_lock_due(batch_size=100) == 20


def test_lock_job_is_declared_for_beat():
    jobs = {job.task: job for job in JournalConfig.periodic_tasks}
    assert jobs["journal.tasks.lock_sentiment_labels"].crontab == {"minute": "*/5"}


def test_lock_job_is_synced_into_celery_beat(db):
    from django_celery_beat.models import PeriodicTask

    from raxx.periodic import sync_periodic_tasks

    sync_periodic_tasks()
    assert PeriodicTask.objects.filter(task="journal.tasks.lock_sentiment_labels").exists()


def in_merge(update) -> None:
    """Run ``update`` as raxx/merge.py does: inside a transaction that set raxx.account_merge."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('raxx.account_merge', 'on', true)")
        update()


@pytest.mark.postgres_only
def test_postgres_refuses_a_direct_update_of_a_locked_row(customer):
    label = make_label(customer, make_order(customer, exit="101", closed_ago=timedelta(days=2)), locked=True)
    for sql in ("UPDATE trade_sentiment_labels SET post_label = 'FollowedPlan' WHERE id = %s",
                "UPDATE trade_sentiment_labels SET journal_note = 'rewritten' WHERE id = %s",
                "UPDATE trade_sentiment_labels SET post_label_locked_at = NULL WHERE id = %s"):
        with pytest.raises(DatabaseError, match="locked"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [label.id])
    label.refresh_from_db()
    assert label.post_label is None and label.journal_note is None and label.post_label_locked_at is not None
    with pytest.raises(DatabaseError), transaction.atomic():  # the ORM goes through the same trigger
        TradeSentimentLabel.objects.filter(pk=label.pk).update(pre_label="Bearish")


@pytest.mark.postgres_only
def test_postgres_allows_updates_before_the_lock_and_deletes_after(customer, other_customer):
    open_label = make_label(customer, make_order(customer, exit="101"))
    TradeSentimentLabel.objects.filter(pk=open_label.pk).update(post_label="FollowedPlan")
    locked = make_label(customer, make_order(customer, exit="101", closed_ago=timedelta(days=2)), locked=True)
    # only an account merge (raxx.account_merge set in its transaction) may move a locked row
    with pytest.raises(DatabaseError, match="locked"), transaction.atomic():
        TradeSentimentLabel.objects.filter(pk=locked.pk).update(customer=other_customer)
    in_merge(lambda: TradeSentimentLabel.objects.filter(pk=locked.pk).update(customer=other_customer))
    assert TradeSentimentLabel.objects.get(pk=locked.pk).customer_id == other_customer.pk
    with pytest.raises(DatabaseError, match="locked"), transaction.atomic():  # the merge flag moves user_id only
        in_merge(lambda: TradeSentimentLabel.objects.filter(pk=locked.pk).update(pre_label="Bearish"))
    TradeSentimentLabel.objects.filter(pk=locked.pk).delete()  # erasure stays possible
    assert not TradeSentimentLabel.objects.filter(pk=locked.pk).exists()


@pytest.mark.postgres_only
def test_postgres_has_the_partial_indexes_and_checks(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'trade_sentiment_labels'")
        indexes = dict(cursor.fetchall())
    assert "WHERE (post_label IS NOT NULL)" in indexes["idx_tsl_user_post_label"]
    assert "WHERE (post_label_locked_at IS NULL)" in indexes["idx_tsl_user_lock"]
    assert "UNIQUE" in indexes["idx_tsl_user_trade"] and "WHERE" not in indexes["idx_tsl_user_pre_label"]


def test_database_checks_refuse_bad_rows(customer):
    order = make_order(customer, exit="101")
    for bad in ({"pre": "Panicked"}, {"post": "Disciplined"}, {"note": "x" * 2001}):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_label(customer, order, **bad)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_creates_for_one_trade_give_one_201_and_the_rest_409(customer, flags, api_for):
    flags.on("FLAG_SENTIMENT_JOURNAL")
    order = make_order(customer)
    workers = 6
    clients = [api_for(customer) for _ in range(workers)]

    def attempt(client):
        response = client.post("/api/sentiment-labels", {"source_table": "paper_orders", "trade_id": order.id,
                                                         "pre_label": "Bullish"}, format="json")
        return response.status_code, response.json().get("error")

    statuses = concurrently(attempt, workers, args=[(c,) for c in clients])
    assert sorted(statuses, key=lambda s: s[0]) == [(201, None)] + [(409, "label_exists")] * (workers - 1)
    assert TradeSentimentLabel.objects.filter(trade=order).count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_closes_give_one_200_and_the_rest_409(customer, api_for):
    order = make_order(customer)
    workers = 4
    clients = [api_for(customer) for _ in range(workers)]

    def attempt(client, price):
        return client.post(f"/api/paper-orders/{order.id}/close", {"exit_price": price}, format="json").status_code

    statuses = concurrently(attempt, workers, args=[(c, str(100 + i)) for i, c in enumerate(clients)])
    assert sorted(statuses) == [200] + [409] * (workers - 1)


@pytest.mark.postgres_only
def test_postgres_refuses_updates_once_the_window_ended_even_before_the_worker_ran(customer, other_customer):
    due = make_label(customer, make_order(customer, exit="101", closed_ago=timedelta(hours=25)))
    assert due.post_label_locked_at is None  # the worker has not run yet
    for sql in ("UPDATE trade_sentiment_labels SET post_label = 'FollowedPlan' WHERE id = %s",
                "UPDATE trade_sentiment_labels SET journal_note = 'rewritten' WHERE id = %s"):
        with pytest.raises(DatabaseError, match="locked"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [due.id])
    with pytest.raises(DatabaseError, match="locked"), transaction.atomic():  # user_id outside a merge
        TradeSentimentLabel.objects.filter(pk=due.pk).update(customer=other_customer)
    in_merge(lambda: TradeSentimentLabel.objects.filter(pk=due.pk).update(customer=other_customer))
    assert sentiment_labels_lock_due() == 1  # the worker may still store the lock
    due.refresh_from_db()
    assert due.post_label_locked_at is not None and due.post_label is None and due.journal_note is None
    recent = make_label(customer, make_order(customer, exit="101", closed_ago=timedelta(hours=23)))
    TradeSentimentLabel.objects.filter(pk=recent.pk).update(post_label="FollowedPlan")  # window still open
