"""What a batch-operation type must provide: the handler interface every type's class implements (registry.py maps
the API's `type` names to them)."""

from collections.abc import Mapping

from django.db.models import QuerySet

from scfm.errors import DomainError
from scfm.query.params import UNKNOWN_PARAMETER


class BatchOperationHandler:
    """The interface of one batch-operation type.

    `settings_key` names the account setting whose hash is deep-merged under the given parameters on create.
    `filter_params` (the parameters holding another resource's `q[...]` filters, each with the FilterSet that reads
    it) and `option_params` (the other parameters it reads) are the type's parameter names: any other name is a 422.
    """

    type: str
    settings_key: str | None = None
    requires_callout: bool = False
    filter_params: Mapping[str, type] = {}
    option_params: tuple[str, ...] = ()

    def parameter_names(self) -> set[str]:
        """Every parameter name the type reads."""
        return {*self.filter_params, *self.option_params}

    def check_parameter_names(self, parameters: dict | None, defaults: dict | None = None) -> None:
        """Raise DomainError `{"parameters": {name: ["is not a known parameter"]}}` for each name of the given
        `parameters` or of the account's `defaults` (the setting `settings_key`; such names say so) the type does
        not read. Names inside the values (filters' JSON paths, remote_request_params) are not checked here."""
        known = self.parameter_names()
        given = set(parameters or {})
        errors = {name: [UNKNOWN_PARAMETER] for name in sorted(given - known, key=str)}
        for name in sorted(set(defaults or {}) - known - given, key=str):
            errors[name] = [f"{UNKNOWN_PARAMETER} (from the account's setting {self.settings_key})"]
        if errors:
            raise DomainError({"parameters": errors})

    def validate_parameters(self, *, account, callout, parameters: dict) -> None:
        """Raise DomainError (a 422) if the parameters cannot be used."""

    def preview(self, operation, resource: str) -> QuerySet:
        """The rows of `resource` (e.g. "contacts") the operation would affect if it ran now."""
        raise DomainError({"base": [f"{operation.type} has no {resource} preview"]})

    def run(self, operation) -> None:
        """Do the work. Must be idempotent and resumable from operation.cursor."""
        raise NotImplementedError
