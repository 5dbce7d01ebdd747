"""Batch-operation types: the API's `type` name -> the handler class that validates, previews and runs it.

A handler is a small class (see BatchOperationHandler). To add a type, add one line to HANDLERS naming its class;
the classes are imported lazily so a type's module may depend on any app.
"""

from django.db.models import QuerySet
from django.utils.module_loading import import_string

from scfm.errors import DomainError

HANDLERS: dict[str, str] = {
    "BatchOperation::CalloutPopulation": "batch_operations.callout_population.CalloutPopulation",
    "BatchOperation::PhoneCallCreate": "batch_operations.phone_call_operations.PhoneCallCreate",
    "BatchOperation::PhoneCallQueue": "batch_operations.phone_call_operations.PhoneCallQueue",
    "BatchOperation::PhoneCallQueueRemoteFetch": "batch_operations.phone_call_operations.PhoneCallQueueRemoteFetch",
}


class BatchOperationHandler:
    """What a batch-operation type must provide.

    `settings_key` names the account setting whose hash is deep-merged under the given parameters on create.
    """

    type: str
    settings_key: str | None = None
    requires_callout: bool = False

    def validate_parameters(self, *, account, callout, parameters: dict) -> None:
        """Raise DomainError (a 422) if the parameters cannot be used."""

    def preview(self, operation, resource: str) -> QuerySet:
        """The rows of `resource` (e.g. "contacts") the operation would affect if it ran now."""
        raise DomainError({"base": [f"{operation.type} has no {resource} preview"]})

    def run(self, operation) -> None:
        """Do the work. Must be idempotent and resumable from operation.cursor."""
        raise NotImplementedError


def handler_for(type_name: str | None) -> BatchOperationHandler:
    """The handler of a registered type; an unknown type is a 422."""
    if not type_name:
        raise DomainError({"type": ["can't be blank"]})
    path = HANDLERS.get(type_name)
    if path is None:
        raise DomainError({"type": ["is not included in the list"]})
    return import_string(path)()
