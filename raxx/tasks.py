"""Celery tasks of the accounts engine (pass ids, fetch inside, call the service)."""

import logging

from celery import shared_task

from .audit import acting_as
from .dsr import erase_customer
from .merge import AccountsRefused

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), max_retries=3, retry_backoff=True)
def dsr_erase_task(customer_id: str, actor: str = "system") -> dict:
    """Erase a customer (queued from the admin). A refusal (already erased, missing) is logged, not retried."""
    try:
        with acting_as(actor):
            result = erase_customer(customer_id=customer_id)
    except AccountsRefused as exc:
        logger.warning("dsr_erase_task %s refused: %s", customer_id, exc.code)
        return {"customer_id": customer_id, "refused": exc.code}
    return {"customer_id": customer_id, "rows_deleted": result.rows_deleted}


@shared_task(acks_late=True)
def purge_idempotency_keys() -> dict:
    """Hourly: Idempotency-Key records older than 24 hours are deleted."""
    from .idempotency import idempotency_keys_purge

    return {"deleted": idempotency_keys_purge()}


@shared_task(name="raxx.tasks.expire_merge_requests", acks_late=True)
def expire_merge_requests_task() -> int:
    """Close merge requests past their 7-day expiry (beat, hourly); each writes merge_request_expired."""
    from .merge_requests import expire_merge_requests

    expired = expire_merge_requests()
    if expired:
        logger.info("merge requests expired: %s", expired)
    return expired
