"""The JSON filter language of `q[metadata]`, `details`, `parameters`... and its SQL.

`{"gender": "f", "date_of_birth.date.gt": "2022-01-01", "districts.any": ["1", "2"], "left_at.exists": false}`:
nesting is the JSON path; the last key may carry `.<cast>` (date, numeric) and `.<operator>` (in, any, lt, lteq,
gt, gteq, exists). PostgreSQL evaluates it in SQL; SQLite through `scfm_json_match`, which follows the same rules,
so both give the same rows. Nothing here can make the database raise: values that do not cast simply do not match.
The contract: rest-api-current.txt ("Filtering, Sorting and Pagination"). Parse errors are ValueErrors with a
message for the user; scfm.query.filters turns them into QueryError (a 422).
"""

import json
import math
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import BooleanField, Expression, F

OPERATORS = ("in", "any", "lt", "lteq", "gt", "gteq", "exists")
CASTS = ("date", "numeric")
COMPARISONS = {"lt": "<", "lteq": "<=", "gt": ">", "gteq": ">="}
_NUMBER = re.compile(r"^\s*[-+]?[0-9]+(\.[0-9]+)?\s*$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class JsonCondition:
    """One parsed condition: the JSON path (`("address", "city")`), the operator, the optional cast, and the value
    (text, a list of texts, a bool for `exists`, an ISO date or a decimal string for comparisons)."""

    path: tuple[str, ...]
    op: str  # eq, null, in, any, lt, lteq, gt, gteq, exists
    cast: str | None = None
    value: Any = None

    def as_spec(self) -> str:
        return json.dumps({"path": list(self.path), "op": self.op, "cast": self.cast, "value": self.value})


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _text_list(value) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        value = [value]
    return [_text(item).strip() for item in value if _text(item).strip() != ""]


def _boolean(value) -> bool:
    text = _text(value).strip().lower()
    if text in ("true", "1", "t", "yes"):
        return True
    if text in ("false", "0", "f", "no"):
        return False
    raise ValueError("must be true or false")


def _parse_key(key: str) -> tuple[str, str | None, str | None]:
    parts = key.split(".")
    op = parts.pop() if len(parts) > 1 and parts[-1] in OPERATORS else None
    cast = parts.pop() if len(parts) > 1 and parts[-1] in CASTS else None
    name = ".".join(parts)
    if not name:
        raise ValueError(f"'{key}' has no key name")
    if cast and op is None:
        raise ValueError(f"'{key}': a .{cast} cast needs one of .lt, .lteq, .gt, .gteq")
    if cast and op not in COMPARISONS:
        raise ValueError(f"'{key}': .{op} cannot be combined with a .{cast} cast")
    return name, cast, op


def _condition(path: tuple[str, ...], cast: str | None, op: str | None, value) -> JsonCondition:
    if op is None:
        if value is None:
            return JsonCondition(path, "null")
        if isinstance(value, list):
            return JsonCondition(path, "in", value=_text_list(value))
        return JsonCondition(path, "eq", value=_text(value))
    if op in ("in", "any"):
        return JsonCondition(path, op, value=_text_list(value))
    if op == "exists":
        return JsonCondition(path, op, value=_boolean(value))
    if cast == "date":
        text = _text(value).strip()
        try:
            parsed = date.fromisoformat(text[:10])
        except ValueError:
            raise ValueError(f"'{path[-1]}.date.{op}' must be a date (YYYY-MM-DD), got '{text}'") from None
        return JsonCondition(path, op, "date", parsed.isoformat())
    text = _text(value).strip()
    if not _NUMBER.match(text):
        raise ValueError(f"'{path[-1]}.{op}' must be a number, got '{text}'")
    try:
        return JsonCondition(path, op, "numeric", str(Decimal(text)))
    except InvalidOperation:
        raise ValueError(f"'{path[-1]}.{op}' must be a number, got '{text}'") from None


def parse_json_filter(data: dict, prefix: tuple[str, ...] = ()) -> list[JsonCondition]:
    """Flatten a nested filter hash (`{"address": {"city": "x"}, "age.gt": 5}`) into conditions, `prefix` being the
    path above it. Raises ValueError with a message for the user (unknown cast use, a value that is not a date or a
    number, a hash that is not a hash)."""
    if not isinstance(data, dict):
        raise ValueError("must be a hash of filters")
    conditions: list[JsonCondition] = []
    for key, value in data.items():
        key = str(key)
        if isinstance(value, dict) and not key.endswith((".in", ".any")):
            if not value:
                continue
            conditions.extend(parse_json_filter(value, (*prefix, key)))
            continue
        name, cast, op = _parse_key(key)
        conditions.append(_condition((*prefix, name), cast, op, value))
    return conditions


# --- PostgreSQL ---------------------------------------------------------------------------------------------------


def _pg_path(path: tuple[str, ...]) -> tuple[str, list[str]]:
    if not path:
        return "ARRAY[]::text[]", []
    return "ARRAY[" + ", ".join(["%s"] * len(path)) + "]::text[]", list(path)


def _any_candidates(path: tuple[str, ...], values: list[str]) -> list[str] | None:
    """JSON documents whose containment covers every row an `.any` condition can match, or None if some value
    cannot be covered (an element's text form matches a string element, or a number or boolean written so)."""
    documents = []
    for value in values:
        elements: list[object] = [value]
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
        if isinstance(parsed, bool) or (isinstance(parsed, int | float) and math.isfinite(parsed)):
            elements.append(parsed)
        elif not isinstance(parsed, str):  # null, NaN, arrays and objects: leave it to the exact check
            return None
        for element in elements:
            document: object = [element]
            for key in reversed(path):
                document = {key: document}
            documents.append(json.dumps(document))
    return documents


def postgresql_sql(column: str, condition: JsonCondition) -> tuple[str, list]:
    """The PostgreSQL boolean SQL (with %s placeholders) and its params for `condition` on the jsonb `column` (SQL
    already quoted). Never raises on the database side: values that do not cast do not match."""
    path_sql, path_params = _pg_path(condition.path)
    text = f"({column} #>> {path_sql})"
    node = f"({column} #> {path_sql})"
    op = condition.op
    if op == "null":
        return f"{text} IS NULL", path_params
    if op == "eq":
        return f"{text} = %s", [*path_params, condition.value]
    if op in ("in", "any"):
        values = condition.value or []
        if not values:
            return "FALSE", []
        placeholders = ", ".join(["%s"] * len(values))
        if op == "in":
            return f"{text} IN ({placeholders})", [*path_params, *values]
        sql = (
            f"EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof({node}) = 'array' "
            f"THEN {node} ELSE '[]'::jsonb END) AS element(value) WHERE element.value IN ({placeholders}))"
        )
        params = [*path_params, *path_params, *values]
        candidates = _any_candidates(condition.path, values)
        if candidates:
            # `column @> {"districts": ["1401"]} OR ...` selects a superset of the matching rows through the GIN
            # index (jsonb_path_ops); the EXISTS above then keeps exactly the rows that match.
            containment = " OR ".join([f"{column} @> %s::jsonb"] * len(candidates))
            return f"({containment}) AND {sql}", [*candidates, *params]
        return sql, params
    if op == "exists":
        parent_sql, parent_params = _pg_path(condition.path[:-1])
        parent = f"({column} #> {parent_sql})"
        sql = f"COALESCE(jsonb_typeof({parent}) = 'object' AND {parent} ? %s, FALSE)"
        params = [*parent_params, *parent_params, condition.path[-1]]
        return (sql if condition.value else f"NOT {sql}"), params
    comparison = COMPARISONS[op]
    if condition.cast == "date":
        sql = (
            f"(CASE WHEN jsonb_typeof({node}) = 'string' AND {text} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}' "
            f"THEN left({text}, 10) END) {comparison} %s"
        )
        return sql, [*path_params, *path_params, *path_params, condition.value]
    sql = (
        f"(CASE WHEN jsonb_typeof({node}) = 'number' THEN {text}::numeric "
        f"WHEN jsonb_typeof({node}) = 'string' AND {text} ~ '^\\s*[-+]?[0-9]+(\\.[0-9]+)?\\s*$' "
        f"THEN trim({text})::numeric END) {comparison} %s::numeric"
    )
    return sql, [*path_params, *path_params, *path_params, *path_params, *path_params, condition.value]


# --- SQLite (and the reference semantics) -------------------------------------------------------------------------

_MISSING = object()


def _walk(document, path):
    node = document
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _pg_text(node) -> str | None:
    if node is _MISSING or node is None:
        return None
    if isinstance(node, str):
        return node
    return _text(node)


def _number(node) -> Decimal | None:
    if isinstance(node, bool) or node is _MISSING or node is None:
        return None
    if isinstance(node, int | float):
        return Decimal(str(node))
    if isinstance(node, str) and _NUMBER.match(node):
        return Decimal(node.strip())
    return None


def _compare(left, op: str, right) -> bool:
    if left is None:
        return False
    return {"lt": left < right, "lteq": left <= right, "gt": left > right, "gteq": left >= right}[op]


def evaluate(document, condition: JsonCondition) -> bool:
    """Does the decoded JSON `document` satisfy `condition`? The reference semantics, equal to postgresql_sql's."""
    node = _walk(document, condition.path)
    op = condition.op
    if op == "null":
        return _pg_text(node) is None
    if op == "eq":
        return _pg_text(node) == condition.value
    if op == "in":
        return _pg_text(node) in (condition.value or [])
    if op == "any":
        return isinstance(node, list) and any(_pg_text(item) in condition.value for item in node)
    if op == "exists":
        parent = _walk(document, condition.path[:-1])
        present = isinstance(parent, dict) and condition.path[-1] in parent
        return present == condition.value
    if condition.cast == "date":
        text = node if isinstance(node, str) and _DATE.match(node) else None
        return _compare(text[:10] if text else None, op, condition.value)
    return _compare(_number(node), op, Decimal(condition.value))


def sqlite_json_match(document_text, spec_text) -> int:
    """SQLite's `scfm_json_match(column, spec)`: 1 if the JSON text matches the condition spec
    (JsonCondition.as_spec), else 0 (also for text that is not JSON)."""
    try:
        document = json.loads(document_text) if document_text else None
    except ValueError:
        return 0
    spec = json.loads(spec_text)
    condition = JsonCondition(tuple(spec["path"]), spec["op"], spec["cast"], spec["value"])
    return int(evaluate(document, condition))


class JsonMatch(Expression):
    """A boolean SQL expression: does the JSON column satisfy one condition?"""

    output_field = BooleanField()

    def __init__(self, column, condition: JsonCondition):
        super().__init__()
        self.column = F(column) if isinstance(column, str) else column
        self.condition = condition

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        column_sql, column_params = compiler.compile(self.column)
        if column_params:
            raise ValueError("JsonMatch needs a plain column")
        if connection.vendor == "sqlite":
            return f"scfm_json_match({column_sql}, %s)", [self.condition.as_spec()]
        sql, params = postgresql_sql(column_sql, self.condition)
        return f"({sql})", params
