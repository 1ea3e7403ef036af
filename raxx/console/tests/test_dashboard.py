"""The operations dashboard (admin index) and its kill switch."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from waffle.models import Flag

from conftest import make_customer
from flags.registry import FLAGS, Kind
from raxx.audit import audit_log
from raxx.jobs import JobHealth, job_health
from raxx.models import AuditEvent

from .conftest import fill

pytestmark = pytest.mark.django_db
KILL = "FLAG_WCB_ENABLED"
RELEASE = "FLAG_SENTIMENT_JOURNAL"


def test_anonymous_is_sent_to_the_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_every_flag_with_its_live_state_and_a_kill_switch_only_where_it_is_one(admin_client, flags):
    flags.on(KILL)
    flags.on(RELEASE)
    html = admin_client.get("/admin/").content.decode()
    for name in FLAGS:
        assert f'id="dash-flag-{name}"' in html
    row = lambda name: re.search(rf'id="dash-flag-{name}">(.*?)</tr>', html, re.S).group(1)  # noqa: E731
    assert "ON for everyone" in row(KILL) and f"/admin/console/kill-switch/{KILL}/" in row(KILL)
    assert "ON for everyone" in row(RELEASE) and "kill-switch" not in row(RELEASE)
    off_kill_switches = [n for n, s in FLAGS.items() if s.kind == Kind.KILL_SWITCH and n != KILL]
    assert all("kill-switch" not in row(n) for n in off_kill_switches)  # already off: nothing to kill


def test_kill_switch_confirms_then_turns_off_with_an_audit_event(admin_client, flags):
    flags.on(KILL)
    confirm = admin_client.get(f"/admin/console/kill-switch/{KILL}/")
    assert confirm.status_code == 200 and "OFF for everyone" in confirm.content.decode()
    assert Flag.objects.get(name=KILL).everyone is True  # the GET changed nothing
    response = admin_client.post(f"/admin/console/kill-switch/{KILL}/")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert Flag.objects.get(name=KILL).everyone is False
    event = AuditEvent.objects.filter(event_type="flag_changed").latest("id")
    assert event.actor == "operator:operator" and event.data["flag"] == KILL
    assert event.data["old"]["everyone"] is True and event.data["new"]["everyone"] is False
    assert "OFF for everyone" in admin_client.get("/admin/").content.decode()


def test_kill_switch_refuses_a_release_flag_and_an_unknown_name(admin_client):
    assert admin_client.post(f"/admin/console/kill-switch/{RELEASE}/").status_code == 404
    assert admin_client.post("/admin/console/kill-switch/NOPE/").status_code == 404
    assert admin_client.get("/admin/console/kill-switch/FLAG_WCB_ENABLED/").status_code == 200
    assert not AuditEvent.objects.filter(event_type="flag_changed").exists()


def test_kill_switch_needs_the_flag_permission(client, django_user_model, flags):
    flags.on(KILL)
    client.force_login(django_user_model.objects.create_user("viewer", is_staff=True))
    assert client.post(f"/admin/console/kill-switch/{KILL}/").status_code == 404
    assert Flag.objects.get(name=KILL).everyone is True


def test_jobs_pending_wcb_funnel_health_and_latest_audit(admin_client):
    customer = make_customer("dash@example.test")
    fill(customer, 3)
    for i in range(25):
        audit_log("test_event", data={"n": i})
    html = admin_client.get("/admin/").content.decode()
    for job in job_health():
        assert job.name in html
    wcb = re.search(r'id="dash-wcb">(.*?)</table>', html, re.S).group(1)
    assert "Close of market" in wcb and "End of month" in wcb and "<td>2</td>" in wcb and "<td>1</td>" in wcb
    funnel = re.search(r'id="dash-funnel">(.*?)</div>', html, re.S).group(1)
    assert "<svg" in funnel and "Screen 2" in funnel and "1 (100%)" in funnel and "0 (0%)" in funnel
    assert "<script" not in html.split('id="content-main"')[1]  # the chart is SVG only, no JS library
    health = re.search(r'id="dash-health">(.*?)</table>', html, re.S).group(1)
    assert health.count("OK") == 3
    audit = re.search(r'id="dash-audit">(.*?)</table>', html, re.S).group(1)
    assert audit.count("<tr>") == 1 + 20 and "n: 24" in audit and "n: 4</td>" not in audit


def test_hidden_models_show_only_when_a_superuser_asks(admin_client, staff_client):
    hidden = ("/admin/waffle/switch/", "/admin/waffle/sample/", "/admin/django_celery_beat/solarschedule/",
              "/admin/django_celery_beat/clockedschedule/")
    page = admin_client.get("/admin/").content.decode()
    assert not any(url in page for url in hidden) and "/admin/waffle/flag/" in page
    page = admin_client.get("/admin/?all=1").content.decode()
    assert all(url in page for url in hidden)
    assert not any(url in staff_client.get("/admin/?all=1").content.decode() for url in hidden)
    assert all(admin_client.get(url).status_code == 200 for url in hidden)  # hidden, still reachable


def dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/admin/").status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_query_count_does_not_grow_with_rows(admin_client):
    fill(make_customer("one@example.test"), 1)
    one = dashboard_queries(admin_client)
    for i in range(5):
        fill(make_customer(f"many{i}@example.test"), 8)
    for i in range(30):
        audit_log("test_event", data={"n": i})
    many = dashboard_queries(admin_client)
    assert one == many <= 16, (one, many)


def test_jobs_placeholder_reports_every_synced_task(db):
    from django_celery_beat.models import PeriodicTask

    jobs = job_health()
    assert {j.name for j in jobs} == set(PeriodicTask.objects.exclude(name="celery.backend_cleanup")
                                        .values_list("name", flat=True))
    assert all(isinstance(j, JobHealth) and not j.stale and j.next_run for j in jobs)
    PeriodicTask.objects.filter(name=jobs[0].name).update(enabled=False)
    paused = next(j for j in job_health() if j.name == jobs[0].name)
    assert paused.paused and paused.next_run is None and not paused.stale
