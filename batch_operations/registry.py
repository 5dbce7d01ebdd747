"""Batch-operation types: the API's `type` name -> the handler class that validates, previews and runs it.

Each type's work (its SQL included) is in the module of its class: callout_population.py (populating a callout from
a contact filter), phone_call_operations.py (the legacy PhoneCallCreate / PhoneCallQueue / PhoneCallQueueRemoteFetch).
To add a type, write a BatchOperationHandler (base.py) and add one line to HANDLERS.
"""

from scfm.errors import DomainError

from .base import BatchOperationHandler
from .callout_population import CalloutPopulation
from .phone_call_operations import PhoneCallCreate, PhoneCallQueue, PhoneCallQueueRemoteFetch

HANDLERS: dict[str, type[BatchOperationHandler]] = {
    handler.type: handler for handler in (CalloutPopulation, PhoneCallCreate, PhoneCallQueue, PhoneCallQueueRemoteFetch)
}


def handler_for(type_name: str | None) -> BatchOperationHandler:
    """The handler of a registered type (`"BatchOperation::CalloutPopulation"`); a blank or unknown type raises
    DomainError (a 422 on `type`)."""
    if not type_name:
        raise DomainError({"type": ["can't be blank"]})
    handler = HANDLERS.get(type_name)
    if handler is None:
        raise DomainError({"type": ["is not included in the list"]})
    return handler()
