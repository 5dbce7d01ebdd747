"""What a batch-operation type must provide: the handler interface every type's class implements (registry.py maps
the API's `type` names to them)."""

from django.db.models import QuerySet

from scfm.errors import DomainError


class BatchOperationHandler:
    """The interface of one batch-operation type.

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
