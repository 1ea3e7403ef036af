"""The cached customer row (raxx/customer_cache.py): no query on the hot path, and never stale.

CONTRACTS §1: a tombstoned (merged-away or erased) customer gets 401 — on the very next
request, in every process, although the row of a live customer is served from the cache.
"""

import uuid

import pytest
from django.conf import settings
from django.test import override_settings
from django_redis.cache import RedisCache

from raxx import customer_cache
from raxx.dsr import erase_customer, leftovers
from raxx.merge import AccountsRefused, merge_accounts
from raxx.models import AuditEvent, Customer
from raxx.tests.helpers import PROBE_URLS, dead_redis_caches

pytestmark = pytest.mark.django_db


def merge_away(primary, secondary):
    return merge_accounts(primary_id=primary.pk, secondary_id=secondary.pk, without_consent_reason="test: support ticket")


def test_a_known_customer_costs_no_query(api, django_assert_num_queries):
    assert api.get("/api/me").status_code == 200  # first sight of the token: the row is read and cached
    with django_assert_num_queries(0):
        response = api.get("/api/me")
    assert response.status_code == 200 and response.json()["email"] == "owner@example.test"


def test_a_merged_away_customer_gets_401_on_the_next_request(api_for, customer, other_customer):
    secondary = api_for(other_customer)
    assert secondary.get("/api/me").status_code == 200  # cached now
    merge_away(customer, other_customer)
    response = secondary.get("/api/me")
    assert response.status_code == 401
    assert api_for(customer).get("/api/me").status_code == 200


def test_an_erased_customer_gets_401_on_the_next_request_and_nothing_stays_cached(api, customer):
    assert api.get("/api/me").status_code == 200
    result = erase_customer(customer_id=customer.pk)
    assert api.get("/api/me").status_code == 401
    store = customer_cache.store()
    assert store.get(customer_cache.row_key(customer.pk)) is None  # a tombstoned row is never cached
    # nor the rate-limit counters that the refused request's one round trip counted (CONTRACTS §10)
    assert leftovers(customer_id=customer.pk, email="owner@example.test", cache_keys=result.cache_keys) == []


def test_a_reader_slower_than_an_erasure_never_writes_the_email_back(customer):
    """The reader read the generation and the row (email set) before the erasure committed; the
    erasure's last step dropped the keys; the reader's late write must not put the email back."""
    generation = customer_cache.start_generation(customer.pk)
    live = Customer.objects.get(pk=customer.pk)
    result = erase_customer(customer_id=customer.pk)
    store = customer_cache.store()
    store.delete_many(result.cache_keys)  # what the erasure does once committed (a test never commits)
    customer_cache.remember(live, generation)
    if isinstance(store, RedisCache):  # the write is conditional on the generation, atomically
        assert store.get(customer_cache.row_key(customer.pk)) is None
    assert customer_cache.from_entry(customer.pk, store.get(customer_cache.generation_key(customer.pk)),
                                     store.get(customer_cache.row_key(customer.pk))) is None


@pytest.mark.urls(PROBE_URLS)
def test_a_cache_entry_that_cannot_be_decoded_is_a_miss_not_a_500(api, flags):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: the one pipeline is Redis's")
    from django_redis import get_redis_connection

    from flags.cache import batch_keys

    flags.on("FLAG_WCB_ENABLED")
    assert api.get("/api/probe/flagged").status_code == 200
    store = customer_cache.store()
    connection = get_redis_connection("default")
    for key in batch_keys()[1:]:
        connection.set(store.make_key(key), b"\x80not a pickle")
    assert api.get("/api/probe/flagged").status_code == 200  # read from the database instead


def test_a_change_of_the_row_is_served_on_the_next_request(api, customer):
    assert api.get("/api/me").json()["email"] == "owner@example.test"
    customer.email = "renamed@example.test"
    customer.save()  # an operator's edit: the pre_save signal replaces the generation
    assert api.get("/api/me").json()["email"] == "renamed@example.test"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_save_outside_a_transaction_replaces_the_generation_after_its_write():
    """In autocommit ``save()`` runs in no transaction: the second replacement must come after the
    write, or a reader between the first one and the write would cache the old row as current."""
    from django.db.models.signals import pre_save

    customer = Customer.objects.create(id=uuid.uuid4(), email="before@example.test")
    store = customer_cache.store()
    seen = []

    def reader(sender, instance, **kwargs):  # runs after the cache's own pre_save receiver, before the write
        seen.append(store.get(customer_cache.generation_key(instance.pk)))

    pre_save.connect(reader, sender=Customer, dispatch_uid="test.reader")
    try:
        customer.email = "after@example.test"
        customer.save()
    finally:
        pre_save.disconnect(dispatch_uid="test.reader", sender=Customer)
    assert seen[0] is not None and store.get(customer_cache.generation_key(customer.pk)) != seen[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_invalidate_outside_a_transaction_is_a_programming_error():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        customer_cache.invalidate(uuid.uuid4())


def test_an_entry_read_before_a_tombstone_committed_is_never_served_after_it(customer):
    """The race: a reader reads the generation and the live row, a tombstone commits, and
    only then does the reader write its entry. It carries a dead generation."""
    generation = customer_cache.start_generation(customer.pk)
    live = Customer.objects.get(pk=customer.pk)  # the reader's database read, before the tombstone
    customer_cache.invalidate(customer.pk)  # the tombstoning transaction (before its write)
    Customer.objects.filter(pk=customer.pk).update(tombstoned_at=live.created_at)
    customer_cache.remember(live, generation)  # the late write of the old state
    store = customer_cache.store()
    current = store.get(customer_cache.generation_key(customer.pk))
    entry = store.get(customer_cache.row_key(customer.pk))
    assert current != generation
    assert customer_cache.from_entry(customer.pk, current, entry) is None


def test_a_tombstone_the_cache_cannot_confirm_is_refused_and_changes_nothing(customer, other_customer):
    with override_settings(CACHES=dead_redis_caches()), pytest.raises(AccountsRefused) as refused:
        merge_away(customer, other_customer)
    assert refused.value.code == "busy" and "cache" in refused.value.message
    assert Customer.objects.get(pk=other_customer.pk).tombstoned_at is None
    assert not AuditEvent.objects.filter(event_type="account_merged").exists()
    with override_settings(CACHES=dead_redis_caches()), pytest.raises(AccountsRefused):
        erase_customer(customer_id=customer.pk)
    assert Customer.objects.get(pk=customer.pk).tombstoned_at is None


def test_requests_are_served_from_the_database_when_the_cache_is_down(api):
    with override_settings(CACHES=dead_redis_caches()):
        assert [api.get("/api/me").status_code for _ in range(2)] == [200, 200]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_tombstone_in_another_process_is_seen_on_the_next_request(api_for, customer, other_customer):
    """``manage.py merge_accounts`` / ``dsr_erase`` in another process, with the row cached in Redis here."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: without it the test settings use a process-local cache")
    from flags.tests.test_cross_process import run_manage

    secondary, primary = api_for(other_customer), api_for(customer)
    assert secondary.get("/api/me").status_code == 200 and primary.get("/api/me").status_code == 200
    run_manage("merge_accounts", "--primary", str(customer.pk), "--secondary", str(other_customer.pk),
               "--without-consent", "--reason", "test: support ticket", "--yes")
    assert secondary.get("/api/me").status_code == 401
    assert primary.get("/api/me").status_code == 200
    run_manage("dsr_erase", "--user", str(customer.pk), "--yes")
    assert primary.get("/api/me").status_code == 401
