"""The query parameters of list operations in the OpenAPI schema (drf-spectacular), generated from what the list
really reads: `page` and `per_page` (scfm.api.pagination), `sort` (scfm.api.filters.SortBackend) and one `q[<name>]`
per filter of the view's FilterSet (scfm.api.filters.QueryFilterBackend), typed after the filter's kind.

drf-spectacular asks each filter backend and the paginator of a list view for `get_schema_operation_parameters(view)`
(DRF's own hook); they answer with the functions here, so a filter added to a FilterSet is declared with no more work,
and a fuzzer reading the schema (tests/scfm/test_schema_fuzz.py) reaches every list's filters. ResourceAutoSchema
(the DEFAULT_SCHEMA_CLASS) does the same for the actions that answer a page without being a `list`.
"""

import django_filters
from drf_spectacular.openapi import AutoSchema

from scfm.query.filters import (
    BooleanFilter,
    CsvFilter,
    JSONFilter,
    NestedFilter,
    TimestampFilter,
)


def _query(name: str, schema: dict, description: str, **extra) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description, **extra}


def _object(description: str) -> dict:
    """A hash given with bracket keys (`q[metadata][name]=Alice`): OpenAPI's deepObject style."""
    return {"schema": {"type": "object", "additionalProperties": {"type": "string"}}, "description": description}


def filter_parameter(name: str, filter_) -> dict:
    """The `q[<name>]` parameter of one FilterSet filter."""
    key = f"q[{name}]"
    if isinstance(filter_, JSONFilter):
        spec = _object(
            f"Filters on the JSON column `{filter_.field_name}`: `q[{name}][key]=value`, with operators such as "
            f"`q[{name}][key.gt]=3` (rest-api-current.txt, Filtering)."
        )
        return _query(key, spec["schema"], spec["description"], style="deepObject", explode=True)
    if isinstance(filter_, NestedFilter):
        spec = _object(f"The filters of the related `{filter_.field_name}`, e.g. `q[{name}][status]=running`.")
        return _query(key, spec["schema"], spec["description"], style="deepObject", explode=True)
    if isinstance(filter_, CsvFilter) and filter_.extra.get("integer"):
        return _query(key, {"type": "string"}, "Ids, comma-separated: `1,2,3` matches any of them.", example="1,2")
    if isinstance(filter_, CsvFilter):
        return _query(key, {"type": "string"}, "Values, comma-separated: `a,b` matches either.")
    if isinstance(filter_, TimestampFilter):
        return _query(
            key,
            {"type": "string"},
            "A date (`2024-02-29`, compared by whole days) or a time (`2024-02-29T10:00:00Z`).",
            example="2024-02-29",
        )
    if isinstance(filter_, django_filters.NumberFilter):
        return _query(key, {"type": "number"}, f"Compares `{filter_.field_name}` ({filter_.lookup_expr}).")
    if isinstance(filter_, BooleanFilter):
        return _query(key, {"type": "string", "enum": ["true", "false"]}, "true or false (also 1/0, t/f).")
    return _query(key, {"type": "string"}, f"Matches `{filter_.field_name}`.")


def filterset_parameters(filterset_class) -> list[dict]:
    """One `q[<name>]` parameter per filter of `filterset_class` (none when the view has no FilterSet)."""
    if filterset_class is None:
        return []
    return [filter_parameter(name, filter_) for name, filter_ in sorted(filterset_class.base_filters.items())]


def sort_parameters(view) -> list[dict]:
    """`sort`, listing the columns of the view's model (of its FilterSet) when it has one."""
    model = _model(view) if view is not None else None
    columns = sorted({field.name for field in model._meta.concrete_fields}) if model else []
    description = "Columns, comma-separated, `-` for descending (default `-id`)."
    if columns:
        description += " One of: " + ", ".join(columns) + "."
    return [_query("sort", {"type": "string"}, description, example="-id")]


def pagination_parameters() -> list[dict]:
    return [
        _query("page", {"type": "integer", "minimum": 1}, "The page to show (1 is the first)."),
        _query("per_page", {"type": "integer", "minimum": 1}, "Items per page (default 25, at most 1000)."),
    ]


def _model(view):
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is not None and filterset_class._meta.model is not None:
        return filterset_class._meta.model
    try:
        return view.base_queryset().model
    except Exception:  # noqa: BLE001 - a view that can't build its queryset without a request: no column list
        return None


class ResourceAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus `page`, `per_page` and `sort` on the GET actions other than `list` that answer
    a page (a viewset's `paged_actions` other than `list`, e.g. a batch operation's previews): they read no `q[...]`."""

    def _get_pagination_parameters(self):
        if getattr(self.view, "action", None) in set(getattr(self.view, "paged_actions", ())) - {"list"}:
            return [*pagination_parameters(), *sort_parameters(None)]
        return super()._get_pagination_parameters()
