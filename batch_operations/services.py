"""Writes of batch operations: create, update, delete, queue/requeue, and the run a worker performs.

What a run does depends on the type; each type's handler, SQL included, is in its own module, mapped from the type by
registry.py:
- callout_population.py: BatchOperation::CalloutPopulation (the population SQL: contacts -> participations + calls);
- phone_call_operations.py: BatchOperation::PhoneCallCreate, PhoneCallQueue, PhoneCallQueueRemoteFetch.
"""

import logging
from typing import cast

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.settings import AccountSettings
from callouts.models import Callout
from callouts.selectors import callout_list
from scfm.errors import DomainError, ensure_no_dependents
from scfm.metadata import deep_merge, merge_metadata

from .models import BatchOperation
from .registry import handler_for

logger = logging.getLogger(__name__)

EVENTS = ("queue", "requeue")
INVALID_EVENT = DomainError({"event": ["is not included in the list"]})
BUSY = (BatchOperation.Status.QUEUED, BatchOperation.Status.RUNNING)


def _callout_of(account: Account, callout_id) -> Callout | None:
    if callout_id in (None, ""):
        return None
    callout = callout_list(account=account).filter(pk=callout_id).first()
    if callout is None:
        raise DomainError({"callout": ["must exist"]})
    return callout


def batch_operation_create(
    *,
    account: Account,
    type: str | None = None,
    callout: Callout | None = None,
    callout_id: int | None = None,
    parameters: dict | None = None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
) -> BatchOperation:
    """Create a batch operation in `preview`. The type must be registered; the account's default parameters for the
    type (settings.batch_operation_<type>_parameters) are deep-merged under the given ones, then validated. A
    parameter name the type does not read (given or from the defaults) raises DomainError (a 422 under
    `parameters`), as do parameters that can't be used; nothing is stored then."""
    handler = handler_for(type)
    callout = callout or _callout_of(account, callout_id)
    if handler.requires_callout and callout is None:
        raise DomainError({"callout": ["must exist"]})
    defaults = AccountSettings.from_account(account).free_form_hash(handler.settings_key)
    handler.check_parameter_names(parameters, defaults)
    parameters = deep_merge(defaults, parameters or {})
    handler.validate_parameters(account=account, callout=callout, parameters=parameters)
    return BatchOperation.objects.create(
        account=account,
        callout=callout,
        type=cast(str, type),  # handler_for rejected a missing type
        parameters=parameters,
        metadata=merge_metadata({}, metadata),
    )


def batch_operation_update(
    *,
    batch_operation: BatchOperation,
    parameters: dict | None = None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
) -> BatchOperation:
    """Replace the parameters (not while queued or running; unknown names and unusable values raise DomainError, a
    422) and merge the metadata."""
    if parameters is not None:
        if batch_operation.status in BUSY:
            raise DomainError(
                {"parameters": [f"cannot be changed while the batch operation is {batch_operation.status}"]}
            )
        handler = handler_for(batch_operation.type)
        handler.check_parameter_names(parameters)
        handler.validate_parameters(
            account=batch_operation.account, callout=batch_operation.callout, parameters=parameters
        )
        batch_operation.parameters = parameters
    batch_operation.metadata = merge_metadata(batch_operation.metadata, metadata, metadata_merge_mode)
    batch_operation.save(update_fields=["parameters", "metadata", "updated_at"])
    return batch_operation


def batch_operation_delete(*, batch_operation: BatchOperation) -> None:
    """Delete an operation that has not created participations yet and is not being run."""
    ensure_no_dependents(batch_operation, [("callout_participations", "callout participations")])
    if batch_operation.status == BatchOperation.Status.RUNNING:
        raise DomainError({"base": ["Cannot delete a batch operation while it is running"]})
    batch_operation.delete()


def _enqueue_run(batch_operation_id: int) -> None:
    from .tasks import run_batch_operation

    run_batch_operation.delay(batch_operation_id)


@transaction.atomic
def batch_operation_fire_event(*, batch_operation: BatchOperation, event: str) -> BatchOperation:
    """`queue` (preview -> queued) or `requeue` (finished -> queued, or a `running` operation whose worker died ->
    queued); the run is enqueued once the change is committed.

    Requeueing a finished operation starts again from the first contact (adding only who is missing); requeueing a
    running one keeps its cursor and resumes.
    """
    operation = BatchOperation.objects.select_for_update().get(pk=batch_operation.pk)
    allowed = {transition.name for transition in operation.get_available_status_transitions()}  # type: ignore[attr-defined]
    if event not in EVENTS or event not in allowed:
        raise INVALID_EVENT
    if operation.status == BatchOperation.Status.FINISHED:
        operation.cursor = None
        operation.finished_at = None
    getattr(operation, event)()
    operation.save(update_fields=["status", "cursor", "finished_at", "updated_at"])
    transaction.on_commit(lambda: _enqueue_run(operation.pk))
    return operation


def batch_operation_run(*, batch_operation_id: int) -> BatchOperation | None:
    """Run a queued operation (or resume a running one whose worker died): start, do the work in the type's
    resumable chunks, finish. Anything else (already finished, deleted) is left alone, so a redelivered task is
    harmless."""
    with transaction.atomic():
        operation = BatchOperation.objects.select_for_update().filter(pk=batch_operation_id).first()
        if operation is None or operation.status not in BUSY:
            return operation
        if operation.status == BatchOperation.Status.QUEUED:
            operation.started_at = timezone.now()
        operation.start()
        operation.save(update_fields=["status", "started_at", "updated_at"])
    run_started_at = operation.started_at  # identifies this run: a requeue while it runs starts a new one
    logger.info("running batch operation %s (%s) from cursor %s", operation.pk, operation.type, operation.cursor)
    handler_for(operation.type).run(operation)
    with transaction.atomic():
        operation = BatchOperation.objects.select_for_update().get(pk=batch_operation_id)
        if operation.status == BatchOperation.Status.RUNNING and operation.started_at == run_started_at:
            operation.finish()
            operation.finished_at = timezone.now()
            operation.save(update_fields=["status", "finished_at", "updated_at"])
    logger.info("batch operation %s is %s, %s processed", operation.pk, operation.status, operation.processed_count)
    return operation
