"""What SCFM accepts from outside, whatever the entry point: text the databases can store, integers they can hold,
bounded nesting. Written once; the edge (scfm.middleware.EdgeMiddleware for query strings and form bodies, the API's
parsers for JSON and multipart bodies, the pagination and URL ids, the query kit's integer filters) calls it.

The families of inputs each rule covers (tests/scfm/test_edge_inputs.py holds one row per member):
- unstorable text: a NUL (U+0000, which PostgreSQL's text and jsonb cannot hold) or a lone surrogate (U+D800-U+DFFF,
  which is not UTF-8) in any key or value, at any depth, of a query string, a form, a JSON or a multipart body;
- numbers JSON columns cannot hold: NaN, Infinity, -Infinity, and floats that overflow (`1e400`);
- integers outside the databases' range: a signed 64-bit integer (PostgreSQL bigint, SQLite INTEGER);
- nesting: a JSON document or a bracket key (`a[b][c]...`) deeper than MAX_DEPTH levels.

Nothing here imports Django REST framework: a rejected input raises InputRejected (status + `{"errors": ...}` body),
which the middleware and the API's exception handler answer with the JSON error shape.
"""

import math
from collections.abc import Iterable

INTEGER_MIN = -(2**63)  # PostgreSQL bigint and SQLite INTEGER: the widest integer column either database has
INTEGER_MAX = 2**63 - 1
MAX_DEPTH = 32  # levels of nesting in a JSON body or a bracket key; real payloads use 3 or 4
UNSTORABLE_TEXT = "contains a NUL character or a lone surrogate, which cannot be stored"


class InputRejected(Exception):
    """An input refused at the edge: `status` (413 size, 422 value, 400 malformed) and `errors` (the 422 body's
    `{"<where>": ["<message>"]}`)."""

    def __init__(self, errors: dict[str, list[str]], status: int = 422):
        self.errors = errors
        self.status = status
        super().__init__(str(errors))


def storable_text(text: str) -> bool:
    """False when `text` holds a NUL or a lone surrogate (a surrogate pair can't reach us: Python joins them)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _label(path: Iterable[object]) -> str:
    return ".".join(str(part) for part in path) or "base"


def check_data(data: object, *, where: str | None = None) -> None:
    """Raise InputRejected (422) naming the first key or value of `data` (dicts, lists, strings, numbers: parsed
    JSON or a nested form) that is unstorable text, a non-finite float, an integer outside INTEGER_MIN..INTEGER_MAX,
    or nested deeper than MAX_DEPTH. Iterative, so a 100,000-deep document costs no recursion."""
    stack: list[tuple[object, tuple, int]] = [(data, (where,) if where else (), 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise InputRejected({_label(path): [f"is nested more than {MAX_DEPTH} levels deep"]})
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and not storable_text(key):
                    raise InputRejected({_label(path) if path else "base": [f"a key {UNSTORABLE_TEXT}"]})
                stack.append((item, (*path, key), depth + 1))
        elif isinstance(value, str):
            if not storable_text(value):
                raise InputRejected({_label(path): [UNSTORABLE_TEXT]})
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not INTEGER_MIN <= value <= INTEGER_MAX:
                raise InputRejected({_label(path): [f"must be between {INTEGER_MIN} and {INTEGER_MAX}"]})
        elif isinstance(value, float) and not math.isfinite(value):
            raise InputRejected({_label(path): ["must be a finite number"]})


def check_key_depth(key: str) -> None:
    """Raise InputRejected (422) for a bracket key (`a[b][c]`) with more than MAX_DEPTH segments."""
    if key.count("[") > MAX_DEPTH:
        raise InputRejected({key[:64] + "…": [f"is nested more than {MAX_DEPTH} levels deep"]})


def check_pairs(pairs: Iterable[tuple[str, str]], *, skip: Iterable[str] = ()) -> None:
    """Check the (key, value) pairs of a query string or a form: storable keys and values, bounded key depth.
    Keys in `skip` are left to their own check (`access_token`: a bad token is a 401, not a 422)."""
    skipped = set(skip)
    for key, value in pairs:
        if not storable_text(key):
            raise InputRejected({"base": [f"a parameter name {UNSTORABLE_TEXT}"]})
        check_key_depth(key)
        if key not in skipped and isinstance(value, str) and not storable_text(value):
            raise InputRejected({key: [UNSTORABLE_TEXT]})


def bounded_int(raw: object, *, name: str, minimum: int = INTEGER_MIN, maximum: int = INTEGER_MAX) -> int:
    """`raw` (a str or an int) as an int within minimum..maximum; InputRejected (422) naming `name` otherwise.
    A blank `raw` is not accepted here: callers give their default first."""
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise InputRejected({name: ["must be an integer"]}) from None
    if not minimum <= value <= maximum:
        raise InputRejected({name: [f"must be between {minimum} and {maximum}"]})
    return value
