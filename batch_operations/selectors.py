"""Reads of batch operations, scoped to one account."""

from django.db.models import QuerySet

from accounts.models import Account

from .models import BatchOperation
from .registry import handler_for


def batch_operation_list(*, account: Account, type: str | None = None) -> QuerySet[BatchOperation]:
    """The account's batch operations, optionally of one type."""
    operations = BatchOperation.objects.filter(account=account)
    return operations.filter(type=type) if type else operations


def batch_operation_preview(*, batch_operation: BatchOperation, resource: str) -> QuerySet:
    """What the operation would affect if it ran now (e.g. the contacts a population would add)."""
    return handler_for(batch_operation.type).preview(batch_operation, resource)
