from datetime import date, timedelta

from django.core.cache import cache
from django.utils import timezone

from raxx.dsr import erase_customer, leftovers
from wcb import jobs
from wcb.selectors import trajectory_cache_key, trajectory_cache_keys

from wcb.models import ClosedPosition, WcbSnapshot, WcbTierObservation
from wcb.services import wcb_retention_prune, wcb_tier_observe
from wcb.tasks import wcb_retention_prune_job

from .conftest import as_of

URL = "/api/positions/{}/what-could-have-been"


def test_sightings_record_when_a_customer_went_free(customer):
    wcb_tier_observe(customer=customer, tier="pro")
    obs = WcbTierObservation.objects.get(customer=customer)
    assert obs.free_since is None and obs.last_paid_seen_at is not None
    wcb_tier_observe(customer=customer, tier="free")
    went_free = WcbTierObservation.objects.get(customer=customer).free_since
    assert went_free is not None
    wcb_tier_observe(customer=customer, tier=None)  # still free: the date stays
    assert WcbTierObservation.objects.get(customer=customer).free_since == went_free
    wcb_tier_observe(customer=customer, tier="pro_plus")  # upgraded again
    assert WcbTierObservation.objects.get(customer=customer).free_since is None


def test_the_wcb_routes_record_the_tier_they_saw(api_for, customer, db):
    api_for(customer, "free").get(URL.format("x"))
    assert WcbTierObservation.objects.get(customer=customer).free_since is not None
    api_for(customer, "pro").get(URL.format("x"))
    assert WcbTierObservation.objects.get(customer=customer).free_since is None


def test_a_render_records_the_sighting_it_read_with_the_position(api_for, customer, other_customer, market, record,
                                                                  flags):
    flags.on("FLAG_WCB_ENABLED")
    position = record()
    WcbTierObservation.objects.filter(customer=customer).update(free_since=timezone.now(), last_paid_seen_at=None)
    assert api_for(customer, "pro").get(URL.format(position.id)).status_code == 200
    seen = WcbTierObservation.objects.get(customer=customer)
    assert seen.free_since is None and seen.last_paid_seen_at is not None
    WcbTierObservation.objects.all().delete()  # no row yet: the render writes the first one
    assert api_for(customer, "pro_plus").get(URL.format(position.id)).status_code == 200
    assert WcbTierObservation.objects.get(customer=customer).last_paid_seen_at is not None
    # The 404s record it too: another customer's position, and a position closed without a snapshot.
    WcbTierObservation.objects.update_or_create(customer=other_customer, defaults={"free_since": timezone.now()})
    assert api_for(other_customer, "pro").get(URL.format(position.id)).json() == {"error": "position_not_found"}
    assert WcbTierObservation.objects.get(customer=other_customer).free_since is None
    no_snapshot = record(tier="free", who=other_customer)
    WcbTierObservation.objects.filter(customer=other_customer).update(free_since=timezone.now())
    assert api_for(other_customer, "pro").get(URL.format(no_snapshot.id)).json() == {"error": "wcb_not_available"}
    assert WcbTierObservation.objects.get(customer=other_customer).free_since is None


def test_snapshots_are_pruned_90_days_after_a_downgrade(customer, other_customer, record, market):
    mine, theirs = record(), record(who=other_customer)
    now = timezone.now()
    WcbTierObservation.objects.update_or_create(customer=customer, defaults={"free_since": now - timedelta(days=91)})
    WcbTierObservation.objects.update_or_create(customer=other_customer, defaults={"free_since": now - timedelta(days=89)})
    assert wcb_retention_prune() == 1
    assert not WcbSnapshot.objects.filter(position=mine).exists()
    assert WcbSnapshot.objects.filter(position=theirs).exists()
    assert ClosedPosition.objects.filter(pk=mine.pk).exists()  # the trade history itself stays


def test_paid_customers_are_never_pruned(customer, record, market):
    record()
    WcbTierObservation.objects.update_or_create(customer=customer, defaults={"last_paid_seen_at": timezone.now() - timedelta(days=400)})
    assert wcb_retention_prune_job.apply().get() == 0
    assert WcbSnapshot.objects.count() == 1


# --- CONTRACTS §10: nothing of the customer stays in the cache either -------------------------------

def _render(api, flags, position):
    flags.on("FLAG_WCB_ENABLED")
    assert api.get(URL.format(position.id)).status_code == 200
    assert api.get(URL.format(position.id) + "?horizon=eod").status_code == 200


def _cached(position_ids):
    return [key for key in trajectory_cache_keys(position_ids) if cache.get(key) is not None]


def test_erasure_deletes_the_cached_trajectories_and_leftovers_checks_the_cache(
        api, flags, customer, other_customer, record, market):
    mine, theirs = record(), record(who=other_customer)
    jobs.run_manual("eod", now=as_of(date(2026, 4, 15)))
    _render(api, flags, mine)
    in_progress = record(closed_at=timezone.now() - timedelta(hours=1))  # today's key, kept an hour
    api.get(URL.format(in_progress.id))
    cache.set(trajectory_cache_key(theirs.id, None), {"kept": True}, None)
    held = _cached([mine.id, in_progress.id])
    assert f"wcb_trajectory:{mine.id}:final" in held and len(held) >= 2
    assert any(line.startswith("cache:") for line in leftovers(customer_id=customer.pk, email=None))

    result = erase_customer(customer_id=customer.pk)
    assert set(held) <= set(result.cache_keys)
    assert _cached([mine.id, in_progress.id]) == []
    assert not any(key.startswith(f"rl:customer:{customer.pk}:") and cache.get(key) is not None
                   for key in result.cache_keys)  # the rate-limit counters of its requests went too
    assert leftovers(customer_id=customer.pk, email=customer.email, cache_keys=result.cache_keys) == []
    assert _cached([theirs.id]) == [f"wcb_trajectory:{theirs.id}:final"]  # another customer's stays


def test_leftovers_reports_a_key_that_came_back_after_erasure(api, flags, customer, record, market):
    mine = record()
    jobs.run_manual("eod", now=as_of(date(2026, 4, 15)))
    _render(api, flags, mine)
    result = erase_customer(customer_id=customer.pk)
    cache.set(f"wcb_trajectory:{mine.id}:final", {"stale": True}, None)
    assert leftovers(customer_id=customer.pk, email=None, cache_keys=result.cache_keys) == [
        f"cache: 1 keys (wcb_trajectory:{mine.id}:final)"]


def test_retention_pruning_deletes_the_cached_trajectories(api, flags, customer, other_customer, record, market):
    mine, theirs = record(), record(who=other_customer)
    jobs.run_manual("eod", now=as_of(date(2026, 4, 15)))
    _render(api, flags, mine)
    cache.set(trajectory_cache_key(theirs.id, None), {"kept": True}, None)
    assert f"wcb_trajectory:{mine.id}:final" in _cached([mine.id])
    WcbTierObservation.objects.update_or_create(customer=customer, defaults={"free_since": timezone.now() - timedelta(days=91)})
    assert wcb_retention_prune() == 1
    assert _cached([mine.id]) == []
    assert _cached([theirs.id]) == [f"wcb_trajectory:{theirs.id}:final"]
    assert api.get(URL.format(mine.id)).status_code == 404  # nothing to render, nothing re-cached
    assert _cached([mine.id]) == []
