from datetime import timedelta

from django.utils import timezone

from wcb.models import ClosedPosition, WcbSnapshot, WcbTierObservation
from wcb.services import wcb_retention_prune, wcb_tier_observe
from wcb.tasks import wcb_retention_prune_job

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
