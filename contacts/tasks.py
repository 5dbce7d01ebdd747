"""Celery tasks of the contacts app: thin wrappers that take ids and call a service."""

from celery import shared_task

from scfm.stalled import stalled_jobs_resume

from . import imports
from .models import ContactImport


@shared_task(name="contacts.tasks.contact_import_run_task", acks_late=True)
def contact_import_run_task(contact_import_id: int) -> None:
    """Run or resume a contact import; a finished, failed or unknown import is left alone, so redelivery is safe."""
    imports.contact_import_run(contact_import_id=contact_import_id)


@shared_task(name="contacts.tasks.contact_imports_resume_stalled", acks_late=True, ignore_result=True)
def contact_imports_resume_stalled() -> list[int]:
    """Periodic: re-enqueue queued or running imports whose worker died (no progress for a while)."""
    busy = ContactImport.objects.filter(status__in=[ContactImport.Status.QUEUED, ContactImport.Status.RUNNING])
    return stalled_jobs_resume(busy, task=contact_import_run_task)
