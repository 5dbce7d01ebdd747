"""A task for the worker-logging test: the worker imports it with `celery worker --include tests.ops.celery_tasks`."""

import logging

from celery import shared_task

from scfm.logging import log_context

logger = logging.getLogger("scfm.test")


@shared_task(name="tests.ops.log_lines")
def log_lines(phone_call_id: int, callout_id: int | None = None) -> None:
    """Logs one line tagged by its own arguments, one inside log_context with an account id."""
    logger.info("dialling %s", phone_call_id)
    with log_context(account_id=7):
        logger.warning("inside the account block")
