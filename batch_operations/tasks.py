"""Celery wrappers of batch-operation services."""

from celery import shared_task

from callouts.models import Callout
from scfm.stalled import stalled_jobs_resume

from . import rehearsals, services
from .models import BatchOperation


@shared_task(name="batch_operations.tasks.run_batch_operation", acks_late=True, ignore_result=True)
def run_batch_operation(batch_operation_id: int) -> None:
    """Run (or resume) one batch operation; a no-op unless it is queued or running, so redelivery is harmless."""
    services.batch_operation_run(batch_operation_id=batch_operation_id)


@shared_task(name="batch_operations.tasks.batch_operations_resume_stalled", acks_late=True, ignore_result=True)
def batch_operations_resume_stalled() -> list[int]:
    """Periodic: re-enqueue queued or running batch operations whose worker died (no progress for a while), and
    rehearsal copies likewise (returns the batch operations' ids)."""
    busy = BatchOperation.objects.filter(status__in=[BatchOperation.Status.QUEUED, BatchOperation.Status.RUNNING])
    copying = Callout.objects.filter(is_rehearsal=True, rehearsal_copy_cursor__isnull=False)
    stalled_jobs_resume(copying, task=copy_rehearsal)
    return stalled_jobs_resume(busy, task=run_batch_operation)


@shared_task(name="batch_operations.tasks.copy_rehearsal", acks_late=True, ignore_result=True)
def copy_rehearsal(rehearsal_id: int) -> None:
    """Copy (or resume copying) a rehearsal's participations; a no-op once done, so redelivery is harmless."""
    rehearsals.callout_rehearsal_copy(rehearsal_id=rehearsal_id)
