import logging

from celery import shared_task

from .services import walkthrough_purge as purge

logger = logging.getLogger(__name__)


@shared_task(name="walkthrough.tasks.walkthrough_purge")
def walkthrough_purge() -> dict:
    """Daily: delete walkthrough rows 30 days after each tester's program ended."""
    counts = purge()
    logger.info("walkthrough purge deleted %s", counts)
    return counts
