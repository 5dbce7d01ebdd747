"""Running a batch operation (batch_operation_run), whatever its type."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batch_operations import services
from batch_operations.models import BatchOperation
from tests.factories import BatchOperationFactory, CalloutFactory


class RequeuedMidRun:
    """A handler during whose run the operation is requeued and picked up by a second runner."""

    def run(self, operation):
        BatchOperation.objects.filter(pk=operation.pk).update(
            status="running", started_at=timezone.now() + timedelta(seconds=1)
        )


@pytest.mark.django_db
def test_a_run_does_not_finish_an_operation_that_a_newer_run_has_taken_over(account, monkeypatch):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account), queued=True)
    monkeypatch.setattr(services, "handler_for", lambda type_name: RequeuedMidRun())

    services.batch_operation_run(batch_operation_id=operation.pk)

    operation.refresh_from_db()
    assert (operation.status, operation.finished_at) == ("running", None)
