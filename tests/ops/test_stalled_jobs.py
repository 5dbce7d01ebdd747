"""Imports and batch operations whose worker died are picked up again by the scheduler within minutes, not after
the broker's one-hour visibility timeout (scfm/stalled.py)."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from batch_operations.models import BatchOperation
from batch_operations.tasks import batch_operations_resume_stalled
from callouts.models import CalloutParticipation
from contacts.imports import contact_import_create
from contacts.models import Contact, ContactImport
from contacts.tasks import contact_imports_resume_stalled
from tests.factories import BatchOperationFactory, CalloutFactory, ContactFactory


def stall(model, pk: int, *, minutes: float, **fields) -> None:
    """The row as a worker that died `minutes` ago left it."""
    model.objects.filter(pk=pk).update(updated_at=timezone.now() - timedelta(minutes=minutes), **fields)


def crashed_import(account, minutes: float) -> ContactImport:
    csv = b"msisdn,name\n+85512345671,a\n+85512345672,b\n"
    contact_import = contact_import_create(account=account, file=SimpleUploadedFile("c.csv", csv, "text/csv"))
    stall(ContactImport, contact_import.pk, minutes=minutes, status=ContactImport.Status.RUNNING)
    return contact_import


def test_an_import_whose_worker_died_is_resumed(account, django_capture_on_commit_callbacks):
    contact_import = crashed_import(account, minutes=5)

    with django_capture_on_commit_callbacks(execute=True):
        resumed = contact_imports_resume_stalled()

    assert resumed == [contact_import.pk]
    contact_import.refresh_from_db()
    assert contact_import.status == ContactImport.Status.FINISHED
    assert Contact.objects.filter(account=account).count() == 2


def test_an_import_that_made_progress_recently_is_left_alone(account, django_capture_on_commit_callbacks):
    contact_import = crashed_import(account, minutes=1)

    with django_capture_on_commit_callbacks(execute=True):
        assert contact_imports_resume_stalled() == []

    assert ContactImport.objects.get(pk=contact_import.pk).status == ContactImport.Status.RUNNING


def test_a_stalled_import_is_sent_once_per_stall_period(account, django_capture_on_commit_callbacks):
    contact_import = crashed_import(account, minutes=5)

    with django_capture_on_commit_callbacks(execute=False):
        first, second = contact_imports_resume_stalled(), contact_imports_resume_stalled()

    assert (first, second) == ([contact_import.pk], [])


def test_a_batch_operation_whose_worker_died_is_resumed(account, django_capture_on_commit_callbacks):
    callout = CalloutFactory(account=account)
    ContactFactory.create_batch(3, account=account)
    operation = BatchOperationFactory(callout=callout)
    stall(BatchOperation, operation.pk, minutes=5, status=BatchOperation.Status.RUNNING)

    with django_capture_on_commit_callbacks(execute=True):
        resumed = batch_operations_resume_stalled()

    assert resumed == [operation.pk]
    assert BatchOperation.objects.get(pk=operation.pk).status == BatchOperation.Status.FINISHED
    assert CalloutParticipation.objects.filter(callout=callout).count() == 3


def test_finished_batch_operations_are_not_resumed(account, django_capture_on_commit_callbacks):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    stall(BatchOperation, operation.pk, minutes=60, status=BatchOperation.Status.FINISHED)

    with django_capture_on_commit_callbacks(execute=True):
        assert batch_operations_resume_stalled() == []
