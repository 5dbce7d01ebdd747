"""The batch-operation registry: every type the model knows has a handler class, imported (no dotted strings)."""

import pytest

from batch_operations.base import BatchOperationHandler
from batch_operations.models import BatchOperation
from batch_operations.registry import HANDLERS, handler_for
from scfm.errors import DomainError


def test_every_batch_operation_type_has_a_handler_when_the_registry_is_imported():
    assert set(HANDLERS) == set(BatchOperation.Type.values)
    assert all(issubclass(handler, BatchOperationHandler) for handler in HANDLERS.values())


@pytest.mark.parametrize(
    ("type_name", "errors"),
    [(None, {"type": ["can't be blank"]}), ("BatchOperation::Nope", {"type": ["is not included in the list"]})],
)
def test_handler_for_raises_a_domain_error_when_the_type_is_blank_or_unknown(type_name, errors):
    with pytest.raises(DomainError) as raised:
        handler_for(type_name)

    assert raised.value.errors == errors
