"""Celery tasks of the contacts app: thin wrappers that take ids and call a service."""

from celery import shared_task

from . import imports


@shared_task(acks_late=True)
def contact_import_run_task(contact_import_id: int) -> None:
    """Run or resume a contact import; a finished, failed or unknown import is left alone, so redelivery is safe."""
    imports.contact_import_run(contact_import_id=contact_import_id)
