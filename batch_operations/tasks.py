"""Celery wrappers of batch-operation services."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def run_batch_operation(batch_operation_id: int) -> None:
    """Run (or resume) one batch operation; a no-op unless it is queued or running, so redelivery is harmless."""
    services.batch_operation_run(batch_operation_id=batch_operation_id)
