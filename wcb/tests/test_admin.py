from decimal import Decimal

import pytest
from django.urls import reverse

from wcb import jobs
from wcb.admin import sparkline
from wcb.models import ClosedPosition, WcbJobRun, WcbSetting, WcbSnapshot, WcbTierObservation

from .conftest import as_of
from .test_jobs import APR15


@pytest.fixture
def data(market, record, customer):
    final = record()
    pending = record(symbol="GONE")
    jobs.run_manual("eod", now=as_of(APR15))
    WcbSetting.objects.create(customer=customer, tracking_horizon="monthly")
    return final, pending


@pytest.mark.parametrize("model", [WcbSnapshot, ClosedPosition, WcbJobRun, WcbSetting, WcbTierObservation])
def test_every_admin_page_renders(admin_client, data, model):
    opts = model._meta
    changelist = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    obj = model.objects.first()
    detail = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert detail.status_code == 200


def test_snapshot_filters_render(admin_client, data):
    url = reverse("admin:wcb_wcbsnapshot_changelist")
    for query in ("?tracking_horizon__exact=monthly", "?horizon_reached__exact=1", "?data_source=unavailable",
                  "?symbol=ACME", "?q=ACME"):
        assert admin_client.get(url + query).status_code == 200


def test_snapshot_detail_draws_the_trajectory(admin_client, data):
    final, _ = data
    page = admin_client.get(reverse("admin:wcb_wcbsnapshot_change", args=[final.wcb_snapshot.pk])).content.decode()
    assert "<svg" in page and "<polyline" in page


def test_snapshots_are_read_only(admin_client, data):
    final, _ = data
    assert admin_client.get(reverse("admin:wcb_wcbsnapshot_add")).status_code == 403
    url = reverse("admin:wcb_wcbsnapshot_change", args=[final.wcb_snapshot.pk])
    admin_client.post(url, {"symbol": "EVIL"})
    assert WcbSnapshot.objects.get(pk=final.wcb_snapshot.pk).symbol == "ACME"


def test_recompute_action_finalizes_pending_and_leaves_finalized_alone(admin_client, data, market):
    final, pending = data
    before = WcbSnapshot.objects.values().get(pk=final.wcb_snapshot.pk)
    market.write("GONE")  # the data arrived
    response = admin_client.post(reverse("admin:wcb_wcbsnapshot_changelist"), {
        "action": "recompute_now", "_selected_action": [final.wcb_snapshot.pk, pending.wcb_snapshot.pk]}, follow=True)
    assert response.status_code == 200
    assert "finalized=1" in response.content.decode()
    assert WcbSnapshot.objects.get(pk=pending.wcb_snapshot.pk).horizon_reached is True
    assert WcbSnapshot.objects.values().get(pk=final.wcb_snapshot.pk) == before


def test_job_ledger_shows_last_success_per_job(admin_client, data):
    page = admin_client.get(reverse("admin:wcb_wcbjobrun_changelist")).content.decode()
    assert "Last successful run per job" in page and "never" in page  # eom never ran; eod did


def test_sparkline_handles_empty_and_flat_series():
    assert "No trajectory" in sparkline([])
    assert "<svg" in sparkline([["2026-04-15", 0.0]])
    assert "<svg" in sparkline([["2026-04-15", -5.5], ["2026-04-16", Decimal("3.25")]])


def test_sparkline_has_axis_values_a_labelled_zero_line_and_the_actual_level():
    svg = sparkline([["2026-04-15", -5.5], ["2026-04-16", 120.123], ["2026-04-17", 80]], actual=Decimal("42.5"))
    assert ">120.12</text>" in svg and ">-5.50</text>" in svg  # the axis values, in cents
    assert ">2026-04-15</text>" in svg and ">2026-04-17</text>" in svg  # first and last session
    assert "0 (break-even)</text>" in svg
    assert "actual 42.50</text>" in svg and 'stroke="#0969da"' in svg
    assert "actual" not in sparkline([["2026-04-15", 1.0]]).split("</svg>")[0]

def test_a_run_page_lists_its_batches_read_only(admin_client, data):
    run = WcbJobRun.objects.get()
    page = admin_client.get(reverse("admin:wcb_wcbjobrun_change", args=[run.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "WCB job batch" in body and "inline" in body  # the worker of an in-process run
    assert 'name="batch_rows-0-status"' not in body  # nothing editable
