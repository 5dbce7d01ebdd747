"""Domain errors raised by services; the API's exception handler turns them into 422 responses."""


class DomainError(Exception):
    """A request that is well-formed but not allowed by the rules (bad state, dependants, duplicates)."""

    def __init__(self, errors: dict[str, list[str]] | str):
        if isinstance(errors, str):
            errors = {"base": [errors]}
        self.errors = errors
        super().__init__(str(errors))


def dependents_exist(humanized: str) -> DomainError:
    return DomainError({"base": [f"Cannot delete record because dependent {humanized} exist"]})


def ensure_no_dependents(instance, relations: list[tuple[str, str]]) -> None:
    """Refuse to delete `instance` while any of its `relations` (related name, humanized name) has rows."""
    for related_name, humanized in relations:
        if getattr(instance, related_name).exists():
            raise dependents_exist(humanized)
