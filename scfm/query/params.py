"""Rails-style bracket keys (`metadata[foo]=bar`, `q[ids][]=1`, `[metadata][name]=Alice`) to nested dicts.

Never raises: a malformed key is kept as it is. Used by the API's parsers and query-string filters.
"""

import re
from collections.abc import Iterable

_KEY = re.compile(r"^([^\[\]]*)((?:\[[^\[\]]*\])*)(.*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def split_key(key: str) -> list[str]:
    """`a[b][]` -> ["a", "b", ""]; the leading-bracket form `[a][b]` -> ["a", "b"]."""
    match = _KEY.match(key)
    head, brackets, rest = match.groups() if match else (key, "", "")
    if rest:  # malformed brackets: keep the key as it is
        return [key]
    segments = _SEGMENT.findall(brackets)
    if head == "" and segments:
        return segments
    return [head, *segments]


def nest(items: Iterable[tuple[str, object]]) -> dict:
    """Build a nested dict from (bracket key, value) pairs; `[]` segments collect values into lists."""
    result: dict = {}
    for key, value in items:
        segments = split_key(key)
        node = result
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            next_is_list = not last and segments[index + 1] == ""
            if segment == "":
                continue
            if last:
                node[segment] = value
            elif next_is_list and index + 1 == len(segments) - 1:
                existing = node.get(segment)
                if not isinstance(existing, list):
                    existing = [] if existing is None else [existing]
                    node[segment] = existing
                existing.append(value)
                break
            else:
                child = node.get(segment)
                if not isinstance(child, dict):
                    child = {}
                    node[segment] = child
                node = child
    return result


def nest_querydict(querydict) -> dict:
    """Nest a Django QueryDict, keeping every value given for `key[]` keys."""
    items: list[tuple[str, object]] = []
    for key, values in querydict.lists():
        if key.endswith("[]"):
            items.extend((key, value) for value in values)
        else:
            items.append((key, values[-1]))
    return nest(items)
