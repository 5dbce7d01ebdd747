"""Rails-style bracket keys (`metadata[foo]=bar`, `q[ids][]=1`, `[metadata][name]=Alice`) to nested dicts, and the
one check of parameter names every entry point uses.

Strict: a key whose brackets can't be read is never guessed at or dropped. `split_key`, `nest` and `nest_querydict`
raise ParamError (a DomainError, so the API's 422) naming every such key (issue 11, section 3):

- a stray `]` (`a]`, `a[b]]`, `q[metadata][gender]]`), an unclosed `[` (`a[b`, `a[`), a `[` inside brackets
  (`q[metadata][a[b]]`), text after a closing `]` (`a[b]c`);
- an empty name: the whole key (`=x`), or `[]` anywhere but at the end (`a[][b]`, `[]`, `[][a]`);
- two keys that give the same name different shapes (`a=1&a[b]=2`, `a[]=1&a[b]=2`).

`unknown_names` is the check of names against what an endpoint, a FilterSet or a batch operation declares; used by
the API's query-string and body checks (scfm.api), `q[...]`-style filters (filters.apply_filters) and batch
operations' `parameters`. It looks at one level only: keys inside free-form data (metadata, settings,
remote_request_params, metadata filters' JSON paths) are data and are never checked here.
"""

from collections.abc import Iterable, Mapping

from scfm.errors import DomainError

UNKNOWN_PARAMETER = "is not a known parameter"


class ParamError(DomainError):
    """Parameters that can't be used as sent: `errors` is `{key: [message]}` (the key as the client sent it), held
    under `under` when given (`{"parameters": {...}}`)."""

    def __init__(self, errors: dict, under: str | None = None):
        super().__init__({under: errors} if under else errors)


def _malformed(key: str) -> str | None:
    """Why `key`'s bracket syntax can't be read, or None when it can."""
    if key == "":
        return "is an empty parameter name"
    opened = None  # index of the `[` of the segment being read
    closed_at = None  # index just after the last `]`
    for index, char in enumerate(key):
        if char == "[":
            if opened is not None:
                return "has a '[' inside brackets"
            if closed_at is not None and closed_at != index:
                return "has text after a closing ']'"
            opened = index
        elif char == "]":
            if opened is None:
                return "has a stray ']'"
            opened, closed_at = None, index + 1
        elif opened is None and closed_at is not None:
            return "has text after a closing ']'"
    if opened is not None:
        return "has an unclosed '['"
    return None


def split_key(key: str) -> list[str]:
    """`a[b][]` -> ["a", "b", ""]; the leading-bracket form `[a][b]` -> ["a", "b"].

    Raises ParamError `{key: [why]}` for malformed brackets or an empty name (`a[][b]`, `[]`): only a final `[]`
    may be empty (it collects values into a list).
    """
    problem = _malformed(key)
    head, _, brackets = key.partition("[")
    segments = brackets[:-1].split("][") if brackets else []
    if head == "" and problem is None:
        if not segments or segments[0] == "":
            problem = "has an empty name"
        else:
            head, segments = segments[0], segments[1:]
    if problem is None and "" in segments[:-1]:
        problem = "has an empty '[]' where a name is expected"
    if problem:
        raise ParamError({key: [problem]})
    return [head, *segments]


def nest(items: Iterable[tuple[str, object]]) -> dict:
    """Build a nested dict from (bracket key, value) pairs; a final `[]` collects values into a list.

    Raises ParamError naming every malformed key, and a key that gives a name another shape than an earlier key
    did (`metadata=x` then `metadata[a]=1`). A repeated plain key keeps its last value.
    """
    result: dict = {}
    errors: dict[str, list[str]] = {}
    shapes: dict[tuple[str, ...], tuple[str, str]] = {}  # path -> (shape, the first key that gave it)
    for key, value in items:
        try:
            segments = split_key(key)
        except ParamError as error:
            errors.update(error.errors)
            continue
        is_list = segments[-1] == ""
        names = segments[:-1] if is_list else segments
        conflict = None
        for depth in range(1, len(names) + 1):
            path = tuple(names[:depth])
            shape = "hash" if depth < len(names) else ("list" if is_list else "value")
            seen = shapes.setdefault(path, (shape, key))
            if seen[0] != shape:
                conflict = seen[1]
                break
        if conflict is not None:
            errors[key] = [f"conflicts with '{conflict}'"]
            continue
        node = result
        for name in names[:-1]:
            node = node.setdefault(name, {})
        if is_list:
            node.setdefault(names[-1], []).append(value)
        else:
            node[names[-1]] = value
    if errors:
        raise ParamError(errors)
    return result


def nest_querydict(querydict) -> dict:
    """Nest a Django QueryDict, keeping every value given for `key[]` keys (the last one for other keys).

    Raises ParamError as `nest` does."""
    items: list[tuple[str, object]] = []
    for key, values in querydict.lists():
        if key.endswith("[]"):
            items.extend((key, value) for value in values)
        else:
            items.append((key, values[-1]))
    return nest(items)


def unknown_names(data, known: Iterable[str], message: str = UNKNOWN_PARAMETER) -> dict[str, list[str]]:
    """`{name: [message]}` for each top-level key of the mapping `data` that is not in `known`, in sorted order; {}
    when every name is known or `data` is not a mapping (its own check says what is wrong with it)."""
    if not isinstance(data, Mapping):
        return {}
    known = set(known)
    return {name: [message] for name in sorted(set(data) - known, key=str)}


def check_names(data, known: Iterable[str], *, under: str | None = None) -> None:
    """Raise ParamError (`{name: ["is not a known parameter"]}`, under `under` if given) when `data` has a
    top-level name not in `known`."""
    errors = unknown_names(data, known)
    if errors:
        raise ParamError(errors, under)
