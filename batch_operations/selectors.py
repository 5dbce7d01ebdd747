"""Reads of batch operations, scoped to one account."""

from dataclasses import dataclass

from django.db.models import Max, Min, QuerySet

from accounts.models import Account
from callouts.models import Callout
from contacts.models import Contact
from scfm.db import count_within

from .callout_population import matching_contacts
from .models import BatchOperation
from .registry import handler_for


def batch_operation_list(*, account: Account, type: str | None = None) -> QuerySet[BatchOperation]:
    """The account's batch operations, optionally of one type."""
    operations = BatchOperation.objects.filter(account=account)
    return operations.filter(type=type) if type else operations


def batch_operation_preview(*, batch_operation: BatchOperation, resource: str) -> QuerySet:
    """What the operation would affect if it ran now (e.g. the contacts a population would add)."""
    return handler_for(batch_operation.type).preview(batch_operation, resource)


FILTER_PREVIEW_TIMEOUT_MS = 2000  # the population builder's live count gives up after 2 s (issue 14)


@dataclass(frozen=True)
class FilterPreview:
    """What a population filter selects now: `count` of the account's matching contacts (None when counting took
    longer than FILTER_PREVIEW_TIMEOUT_MS) and the first `contacts` (lowest ids)."""

    count: int | None
    contacts: list[Contact]


def population_filter_preview(*, account: Account, contact_filter_params: dict, limit: int = 10) -> FilterPreview:
    """The live count and first contacts of a population's filter (the contacts `q[...]` language of
    rest-api-current "Filtering"), before anything is queued. Bad filters raise QueryError (a DomainError, keyed
    under contact_filter_params), as creating the population would. Two queries (three statements with the
    timeout's SET on PostgreSQL)."""
    contacts = matching_contacts(account.pk, {"contact_filter_params": contact_filter_params})
    first = list(contacts.order_by("id")[:limit])
    if len(first) < limit:
        return FilterPreview(count=len(first), contacts=first)
    return FilterPreview(count=count_within(contacts, timeout_ms=FILTER_PREVIEW_TIMEOUT_MS), contacts=first)


def population_list(*, callout: Callout) -> QuerySet[BatchOperation]:
    """The populations of a callout, newest first."""
    return BatchOperation.objects.filter(
        callout_id=callout.pk, account_id=callout.account_id, type=BatchOperation.Type.CALLOUT_POPULATION
    ).order_by("-id")


@dataclass(frozen=True)
class PopulationProgress:
    """How far a population has come: `status`, `added` participations so far, and `percent` of the account's
    contact ids scanned (chunks go through contact ids in order, callout_population.py), 100 when finished."""

    status: str
    added: int
    percent: int


def population_progress(*, batch_operation: BatchOperation) -> PopulationProgress:
    """A population's progress from its own row (cursor, processed_count) and the account's lowest and highest
    contact ids (one query on contacts_account_id_idx); a running population never shows 100 %."""
    status, added = batch_operation.status, batch_operation.processed_count
    if status == BatchOperation.Status.FINISHED:
        return PopulationProgress(status, added, 100)
    if status != BatchOperation.Status.RUNNING or batch_operation.cursor is None:
        return PopulationProgress(status, added, 0)
    bounds = Contact.objects.filter(account_id=batch_operation.account_id).aggregate(low=Min("id"), high=Max("id"))
    low, high = bounds["low"] or 0, bounds["high"] or 0
    if high <= low:
        return PopulationProgress(status, added, 99)
    percent = int(100 * (batch_operation.cursor - low) / (high - low))
    return PopulationProgress(status, added, max(0, min(percent, 99)))
