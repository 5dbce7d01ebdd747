"""Undoing a callout population before the callout starts: the way back from a wrong filter (issue 14).

A population (BatchOperation::CalloutPopulation) records itself on every participation it added
(`CalloutParticipation.callout_population`). Undoing it removes those participations and their calls that were never
dialled (`created`, no dispatch stamp: the one a population seeds, and any made by hand), then deletes the operation
itself once none of its participations is left. It is refused while the callout is not `initialized`, while the
population is queued or running, and when any of its participations has a call that was dialled.

The work is set-based in chunks (`SCFM_POPULATION_CHUNK_SIZE` participations per transaction, constant memory):
each chunk locks the callout's row (so `start` waits for it, and a chunk after a start does nothing), locks the
chunk's calls, then deletes only participations that still have no dialled call (a call queued by hand meanwhile
keeps its participation), with their counters (callouts/counters.py) in the same transaction.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from callouts import counters
from callouts.models import Callout, CalloutParticipation
from phone_calls.models import PhoneCall
from phone_calls.statuses import PhoneCallStatus
from scfm.db import capped_count
from scfm.errors import DomainError

from .callout_population import population_chunk_size
from .models import BatchOperation

PREVIEW_CAP = 10_000
DIALLED_STATUSES = [
    status for status in PhoneCallStatus.values if status != PhoneCallStatus.CREATED
]  # participations counted exactly in a preview; past it the preview says "more than"


@dataclass(frozen=True)
class UndoPreview:
    """What undoing a population would do: `participations` to remove (exact up to `capped` False, else more than
    PREVIEW_CAP), and the reason it is refused (None when it can be undone)."""

    participations: int
    capped: bool
    refusal: str | None


def _dialled_calls() -> Q:
    return ~Q(status=PhoneCallStatus.CREATED) | Q(dispatched_at__isnull=False)


def _has_dialled_call() -> Exists:
    return Exists(PhoneCall.objects.filter(_dialled_calls(), callout_participation_id=OuterRef("pk")))


def _refusal(operation: BatchOperation, callout: Callout) -> str | None:
    if operation.type != BatchOperation.Type.CALLOUT_POPULATION:
        return "only a callout population can be undone"
    if callout.status != Callout.Status.INITIALIZED:
        return f"the callout is {callout.status}: a population can be undone only before the callout starts"
    if operation.status in (BatchOperation.Status.QUEUED, BatchOperation.Status.RUNNING):
        return f"the population is {operation.status}: wait until it has finished"
    # status IN (every status but created): a few probes of phone_calls_callout_st_idx, however big the callout
    dialled = PhoneCall.objects.filter(
        callout_id=callout.pk,
        status__in=DIALLED_STATUSES,
        callout_participation__callout_population_id=operation.pk,
    )
    if dialled.exists():
        return "some of its participations have been dialled already"
    return None


def population_undo_preview(*, batch_operation: BatchOperation) -> UndoPreview:
    """How many participations undoing `batch_operation` removes (counted up to PREVIEW_CAP) and why it is refused,
    if it is. Three queries at most."""
    callout = batch_operation.callout  # cached when the caller fetched it
    added = CalloutParticipation.objects.filter(callout_population_id=batch_operation.pk)
    count, capped = capped_count(added, cap=PREVIEW_CAP)
    return UndoPreview(participations=count, capped=capped, refusal=_refusal(batch_operation, callout))


@transaction.atomic
def _undo_chunk(operation_id: int, callout_id: int, size: int) -> int | None:
    """Remove up to `size` undialled participations of the population; how many, or None when the callout started
    meanwhile (nothing removed)."""
    callout = Callout.objects.select_for_update().get(pk=callout_id)
    if callout.status != Callout.Status.INITIALIZED:
        return None
    picked = list(
        CalloutParticipation.objects.filter(callout_population_id=operation_id)
        .exclude(_has_dialled_call())
        .order_by()
        .values_list("pk", flat=True)[:size]
    )
    if not picked:
        return 0
    list(PhoneCall.objects.select_for_update().filter(callout_participation_id__in=picked).values_list("pk"))
    # re-read under the calls' locks: a call queued by hand since `picked` keeps its participation
    participations = CalloutParticipation.objects.filter(pk__in=picked).exclude(_has_dialled_call())
    ids = list(participations.select_for_update().values_list("pk", flat=True))
    calls = PhoneCall.objects.filter(callout_participation_id__in=ids)
    counters.counts_add_for_calls(calls, PhoneCallStatus.CREATED, None)
    rows = CalloutParticipation.objects.filter(pk__in=ids)
    counters.counts_add_for(rows, {counters.PARTICIPATIONS: -1})
    counters.counts_add_for(rows.filter(answered=True), {counters.ANSWERED: -1})
    counters.counts_add_for(rows.filter(given_up_at__isnull=False), {counters.GIVEN_UP: -1})
    calls.delete()
    rows.delete()
    return len(ids)


def population_undo(*, batch_operation: BatchOperation) -> int:
    """Remove the participations `batch_operation` (a callout population) added, with their undialled calls, and
    delete the operation when none is left; returns how many participations were removed.

    Raises DomainError (a 422 under `base`) when it is refused: not a population, the callout is not `initialized`,
    the population is queued or running, or one of its participations has a dialled call. A start that happens
    while it runs stops it between chunks (what was removed stays removed; the rest stays in the callout)."""
    operation = BatchOperation.objects.select_related("callout").get(pk=batch_operation.pk)
    refusal = _refusal(operation, operation.callout)
    if refusal:
        raise DomainError({"base": [f"Cannot undo this population: {refusal}"]})
    size = population_chunk_size()
    removed = 0
    while True:
        done = _undo_chunk(operation.pk, operation.callout_id, size)
        if not done:
            break
        removed += done
    with transaction.atomic():
        left = CalloutParticipation.objects.filter(callout_population_id=operation.pk).exists()
        locked = BatchOperation.objects.select_for_update().filter(pk=operation.pk).first()
        if (
            locked is not None
            and not left
            and locked.status
            not in (
                BatchOperation.Status.QUEUED,
                BatchOperation.Status.RUNNING,
            )
        ):
            locked.delete()
    return removed
