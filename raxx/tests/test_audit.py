import pytest

from raxx.audit import acting_as, audit_log, current_actor
from raxx.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_audit_log_writes_one_row_with_actor_and_data(customer):
    event = audit_log("demo_event", customer=customer, data={"flag": "X", "nested": {"ok": 1}})
    row = AuditEvent.objects.get()
    assert (row.pk, row.event_type, row.customer_id, row.actor, row.data) == (
        event.pk, "demo_event", customer.id, "system", {"flag": "X", "nested": {"ok": 1}})


def test_actor_comes_from_the_context_or_the_argument():
    with acting_as("cli:test"):
        assert current_actor() == "cli:test"
        assert audit_log("a").actor == "cli:test"
        assert audit_log("b", actor="operator:ann").actor == "operator:ann"
    assert current_actor() == "system"


@pytest.mark.parametrize("data", [
    {"token": "abc"}, {"Password": "x"}, {"secret": "s"}, {"note": "my feelings"}, {"journal_note": "n"},
    {"outer": {"access_token": "t"}}, {"items": [{"jwt": "t"}]}, {"authorization": "Bearer x"},
])
def test_audit_log_refuses_secrets_tokens_and_note_text(data):
    with pytest.raises(ValueError, match="audit_log refuses"):
        audit_log("leaky", data=data)
    assert AuditEvent.objects.count() == 0


def test_audit_events_are_append_only():
    event = audit_log("once")
    event.event_type = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    assert AuditEvent.objects.get().event_type == "once"


def test_audit_admin_is_read_only(admin_client):
    event = audit_log("seen_in_admin", data={"k": "v"})
    assert admin_client.get("/admin/raxx/auditevent/").status_code == 200
    assert admin_client.get(f"/admin/raxx/auditevent/{event.pk}/change/").status_code == 200
    assert admin_client.get("/admin/raxx/auditevent/add/").status_code == 403
    assert admin_client.post(f"/admin/raxx/auditevent/{event.pk}/delete/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_customer_request_does_not_leak_its_actor_into_the_next_request(api, client):
    assert api.get("/api/me").status_code == 200
    assert current_actor() == "system"


@pytest.mark.urls("raxx.tests.probe_urls")
def test_events_written_during_a_customer_request_name_the_customer(api, customer):
    response = api.post("/api/probe/audit")
    assert response.json() == {"actor": f"customer:{customer.id}"}
    assert AuditEvent.objects.get(event_type="probe_event").customer_id == customer.id
    assert current_actor() == "system"
