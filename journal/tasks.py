from celery import shared_task

from .services import sentiment_labels_lock_due


@shared_task(name="journal.tasks.lock_sentiment_labels", acks_late=True, time_limit=300, soft_time_limit=240)
def lock_sentiment_labels() -> int:
    """Beat job: lock the labels whose trades closed at least 24 hours ago (idempotent)."""
    return sentiment_labels_lock_due()
