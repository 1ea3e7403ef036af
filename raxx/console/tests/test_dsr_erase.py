"""DSR erase from the console: typed confirmation, inline run with per-table counts, and the
queued list action with the broker down (a page that says so and erases, never a 500)."""

import pytest

from journal.models import PaperOrder
from raxx import health
from raxx.console import customer_page
from raxx.models import AuditEvent, Customer

from .conftest import fill

pytestmark = pytest.mark.django_db
CLOSED_PORT = "amqp://guest:guest@127.0.0.1:1//"


def erase_url(customer) -> str:
    return f"/admin/raxx/customer/{customer.pk}/dsr-erase/"


@pytest.fixture
def broker_down(settings):
    """The real Celery app pointed at a closed port, eager off: every publish fails."""
    from raxx.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager)
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = CLOSED_PORT, False
    app.conf.broker_url, app.conf.task_always_eager = CLOSED_PORT, False
    app.conf.broker_connection_timeout = 1
    app.conf.task_publish_retry = False

    def reset_pools():
        app._pool = None
        app.amqp._producer_pool = None

    reset_pools()
    assert not health.broker_ok()  # it really is down
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    app.conf.task_publish_retry = True
    reset_pools()


def test_the_erase_page_previews_and_needs_the_typed_id(admin_client, customer, other_customer):
    fill(customer, 2)
    page = admin_client.get(erase_url(customer))
    assert page.status_code == 200 and 'id="erase-preview"' in page.content.decode()
    assert "journal.PaperOrder" in page.content.decode()
    wrong = admin_client.post(erase_url(customer), {"confirm_id": str(other_customer.pk)})
    assert wrong.status_code == 400 and "not this customer" in wrong.content.decode()
    assert admin_client.post(erase_url(customer), {"confirm_id": ""}).status_code == 400
    assert PaperOrder.objects.filter(customer=customer).count() == 2


def test_erase_runs_inline_and_reports_per_table_counts(admin_client, customer, other_customer, broker_down):
    fill(customer, 2)
    fill(other_customer, 1)
    page = admin_client.post(erase_url(customer), {"confirm_id": f"  {str(customer.pk).upper()} "})
    body = page.content.decode()
    assert page.status_code == 200 and 'id="erase-result"' in body
    assert "<td>journal.PaperOrder</td><td>2</td>" in body and "<td>wcb.WcbSnapshot</td><td>2</td>" in body
    assert not PaperOrder.objects.filter(customer=customer).exists()
    assert PaperOrder.objects.filter(customer=other_customer).count() == 1
    event = AuditEvent.objects.get(event_type="dsr_erased")
    assert event.actor == "operator:operator" and event.customer_id == customer.pk
    again = admin_client.post(erase_url(customer), {"confirm_id": str(customer.pk)})
    assert again.status_code == 409 and "already erased" in again.content.decode()


def test_queued_action_with_the_broker_down_says_so_and_erases_in_the_request(admin_client, customer, broker_down):
    fill(customer, 2)
    data = {"action": "queue_dsr_erasure", "_selected_action": [str(customer.pk)]}
    confirm = admin_client.post("/admin/raxx/customer/", data)
    body = confirm.content.decode()
    assert confirm.status_code == 200 and 'id="broker-down"' in body and "Yes, erase now" in body
    assert PaperOrder.objects.filter(customer=customer).exists()
    done = admin_client.post("/admin/raxx/customer/", {**data, "confirmed": "yes"})
    body = done.content.decode()
    assert done.status_code == 200 and 'id="erase-done"' in body and "journal.PaperOrder 2" in body
    assert not PaperOrder.objects.filter(customer=customer).exists()
    assert Customer.objects.get(pk=customer.pk).email is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # on_commit runs at once, as in a real request
def test_queued_action_when_the_broker_fails_after_the_check_is_an_error_message(admin_client, customer,
                                                                               broker_down, monkeypatch):
    fill(customer, 1)
    monkeypatch.setattr(customer_page, "broker_available", lambda: True)  # the broker dies between check and send
    data = {"action": "queue_dsr_erasure", "_selected_action": [str(customer.pk)], "confirmed": "yes"}
    response = admin_client.post("/admin/raxx/customer/", data, follow=True)
    assert response.status_code == 200
    assert "The broker refused 1 of 1 erasure(s)" in response.content.decode()
    assert PaperOrder.objects.filter(customer=customer).exists()  # nothing half-done


def test_queued_action_with_a_broker_queues_after_commit(admin_client, customer, django_capture_on_commit_callbacks):
    fill(customer, 1)
    data = {"action": "queue_dsr_erasure", "_selected_action": [str(customer.pk)]}
    assert "Yes, queue the erasure" in admin_client.post("/admin/raxx/customer/", data).content.decode()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post("/admin/raxx/customer/", {**data, "confirmed": "yes"})
    queued = [cb for cb in callbacks if "queue_dsr_erasure" in cb.__qualname__]
    assert response.status_code == 302 and len(queued) == 1  # (the erasure's own cache invalidation is another)
    assert not PaperOrder.objects.filter(customer=customer).exists()  # eager in tests: the task ran


def test_a_staff_user_without_change_permission_cannot_erase(client, django_user_model, customer):
    client.force_login(django_user_model.objects.create_user("viewer", is_staff=True))
    assert client.post(erase_url(customer), {"confirm_id": str(customer.pk)}).status_code == 404
    assert not AuditEvent.objects.filter(event_type="dsr_erased").exists()
