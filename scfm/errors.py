"""Domain errors raised by services; the API's exception handler turns them into 422 responses."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction


class DomainError(Exception):
    """A request that is well-formed but not allowed by the rules (bad state, dependants, duplicates)."""

    def __init__(self, errors: dict[str, Any] | str):
        """`errors` is the 422 body's `errors`: field -> messages (`{"name": ["can't be blank"]}`), possibly nested
        (`{"q": {"status": ["is not a known filter"]}}`); a string stands for `{"base": [string]}`."""
        if isinstance(errors, str):
            errors = {"base": [errors]}
        self.errors = errors
        super().__init__(str(errors))


def dependents_exist(humanized: str) -> DomainError:
    """The 422 of a delete refused because `humanized` (e.g. "phone calls") still point at the record."""
    return DomainError({"base": [f"Cannot delete record because dependent {humanized} exist"]})


def ensure_no_dependents(instance, relations: list[tuple[str, str]]) -> None:
    """Refuse to delete `instance` while any of its `relations` (related name, humanized name) has rows."""
    for related_name, humanized in relations:
        if getattr(instance, related_name).exists():
            raise dependents_exist(humanized)


@contextmanager
def duplicate_row(error: DomainError | Callable[[], DomainError]) -> Iterator[None]:
    """Run the block in a savepoint; a unique-constraint violation (IntegrityError) inside it raises `error`.

    `error` is a DomainError (a 422 in the API) or a function returning one, called after the savepoint is rolled
    back (so it may query, e.g. to say which unique rule was broken). Use it around the save that may race:

        with duplicate_row(DomainError({"email": ["has already been taken"]})):
            user.save()
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise (error() if callable(error) else error) from None
