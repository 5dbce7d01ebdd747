"""The query parameters of list operations in the OpenAPI schema (drf-spectacular), generated from what the list
really reads: `page` and `per_page` (scfm.api.pagination), `sort` (scfm.api.filters.SortBackend) and one `q[<name>]`
per filter of the view's FilterSet (scfm.api.filters.QueryFilterBackend), typed after the filter's kind.

drf-spectacular asks each filter backend and the paginator of a list view for `get_schema_operation_parameters(view)`
(DRF's own hook); they answer with the functions here, so a filter added to a FilterSet is declared with no more work,
and a fuzzer reading the schema (tests/scfm/test_schema_fuzz.py) reaches every list's filters. ResourceAutoSchema
(the DEFAULT_SCHEMA_CLASS) does the same for the actions that answer a page without being a `list`.
"""

import inspect
import re

import django_filters
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from rest_framework import serializers

from scfm.query.filters import (
    BooleanFilter,
    CsvFilter,
    JSONFilter,
    NestedFilter,
    TimestampFilter,
)

from . import schema_texts


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
    """drf-spectacular's schema for a ResourceViewSet, told its conventions (scfm.api.viewsets), so each operation
    documents what the API really answers (rest-api-current.txt):

    - bodies: creates and events take the write / event body and answer the read serializer (201 + Location);
      updates and deletes answer 204 + Location with no body; a body holding a file is multipart/form-data only;
      an event body's `event` is an enum of the view's `event_names`;
    - headers: `Per-Page`, `Total` (and `Link` when there is another page) on every answer that is a page (lists
      and the other `paged_actions`), `Location` where the view sends it;
    - errors: 400, 401, 403, 404, 413 and 422 on every operation, in the API's one error shape
      (scfm.api.exceptions: `{"errors": {...}}`; a 404 keeps the original's `{"status": 404, "error": ...}`);
    - texts: a summary and a public description per action (scfm.api.schema_texts), never a class's docstring
      (those are notes for developers); `extend_schema(summary=..., description=...)` on an action overrides them.

    Also `page`, `per_page` and `sort` on the GET actions other than `list` that answer a page (a viewset's
    `paged_actions` other than `list`, e.g. a batch operation's previews): they read no `q[...]`.
    """

    def _action(self) -> str | None:
        return getattr(self.view, "action", None)

    def _is_resource(self) -> bool:
        return hasattr(self.view, "read_serializer_class") and hasattr(self.view, "location_prefix")

    def _get_pagination_parameters(self):
        if self._action() in set(getattr(self.view, "paged_actions", ())) - {"list"}:
            return [*pagination_parameters(), *sort_parameters(None)]
        return super()._get_pagination_parameters()

    # bodies -----------------------------------------------------------------------------------------------------
    def get_request_serializer(self):
        if not self._is_resource():
            return super().get_request_serializer()
        action = self._action()
        if action == "fire_event":
            return schema_texts.event_serializer(self.view)
        if action == "create":
            return self.view.write_serializer_class
        if action in ("update", "partial_update"):
            return self.view.update_serializer_class or self.view.write_serializer_class
        return super().get_request_serializer()

    def get_response_serializers(self):
        if not self._is_resource():
            return super().get_response_serializers()
        action = self._action()
        if action in ("create", "fire_event"):
            return {201: self.view.read_serializer_class}
        if action in ("update", "partial_update", "destroy"):
            return {204: None}
        if action in ("retrieve", "list"):
            return self.view.read_serializer_class
        return super().get_response_serializers()

    def map_parsers(self):
        """A body with a file (a CSV import) can only be sent as multipart/form-data."""
        serializer = self.get_request_serializer()
        fields = getattr(force_instance(serializer), "fields", {}) if serializer is not None else {}
        if any(isinstance(field, serializers.FileField) for field in fields.values()):
            return ["multipart/form-data"]
        return super().map_parsers()

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """An uploaded file is binary (drf-spectacular says `uri` unless every request body gets a component of its
        own, COMPONENT_SPLIT_REQUEST; our write serializers are request bodies only)."""
        if isinstance(field, serializers.FileField) and direction == "request":
            return {"type": "string", "format": "binary"}
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, schema in error_responses(self.registry).items():
            responses.setdefault(code, schema)
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        action = self._action()
        if status_code == "200" and action in getattr(self.view, "paged_actions", ()):
            headers.update(PAGE_HEADERS)
        if self._is_resource() and (status_code in ("201", "204") or (status_code == "200" and action == "retrieve")):
            headers.setdefault("Location", LOCATION_HEADER)
        if status_code == "302":
            headers.setdefault("Location", {**LOCATION_HEADER, "description": "Where the resource is."})
        return headers

    # texts --------------------------------------------------------------------------------------------------------
    def _map_basic_serializer(self, serializer, direction):
        """A component's description is its serializer's own docstring, public text; not one inherited from a base
        class (WriteSerializer's notes on validation are for developers)."""
        schema = super()._map_basic_serializer(serializer, direction)
        own = inspect.cleandoc(type(serializer).__dict__.get("__doc__") or "")
        if own:
            schema["description"] = own
        else:
            schema.pop("description", None)
        return schema

    def get_summary(self):
        return schema_texts.summary(self.view, self._action(), self.path)

    def get_description(self):
        return schema_texts.description(self.view, self._action(), self.path)

    def get_operation_id(self):
        """drf-spectacular's id with anything but letters, digits and `_` made `_` (`/recordings/{id}.json`)."""
        return re.sub(r"[^A-Za-z0-9_]", "_", super().get_operation_id()).replace("__", "_")


# The response headers (rest-api-current.txt: "Per-Page: 25", "Total: 1", "Location: /api/access_tokens/16").
PAGE_HEADERS = {
    "Per-Page": {"schema": {"type": "integer"}, "required": True, "description": "Items per page."},
    "Total": {"schema": {"type": "integer"}, "required": True, "description": "Items in the whole list."},
    "Link": {
        "schema": {"type": "string"},
        "description": 'RFC 8288 links to the `first`, `prev`, `next` and `last` pages (`<url>; rel="next"`), '
        "those that exist.",
    },
}
LOCATION_HEADER = {"schema": {"type": "string"}, "required": True, "description": "The resource's path."}

MESSAGE = {"anyOf": [{"type": "string"}, {"type": "object"}]}  # a message, or the messages of a nested name
ERRORS_SCHEMA = {
    "type": "object",
    "description": "The API's one error shape (scfm.api.exceptions): messages by the name they are about (a body "
    "field, a query parameter, or `base` for the request as a whole); nested names give nested objects.",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
                    {"type": "object"},
                ]
            },
        }
    },
    "example": {"errors": {"msisdn": ["can't be blank"]}},
}
NOT_FOUND_SCHEMA = {
    "type": "object",
    "description": "No such resource in the caller's account (the original's 404 body).",
    "required": ["status", "error"],
    "properties": {"status": {"type": "integer", "enum": [404]}, "error": {"type": "string"}},
    "example": {"status": 404, "error": "Not Found"},
}
ERROR_DESCRIPTIONS = {
    "400": "Malformed request: a body that is not JSON or a form, too many fields or query parameters.",
    "401": "No access token, or one that does not exist (`Authorization: Bearer <token>`).",
    "403": "The token lacks the permission the action needs (`<resource>_read` / `<resource>_write`), or the "
    "action needs a super admin.",
    "404": "No such resource in the caller's account (ids in the path, and the parent of a nested route).",
    "413": "The request body is larger than the limit (`SCFM_UPLOAD_MAX_SIZE` for uploads).",
    "422": "Invalid input: a field's value, an unknown parameter or body field, or an event the resource's state "
    "does not allow.",
}


def error_responses(registry) -> dict[str, dict]:
    """The error responses of every operation, their bodies registered once as the `Errors` and `NotFound`
    components."""
    refs = {}
    for name, schema in (("Errors", ERRORS_SCHEMA), ("NotFound", NOT_FOUND_SCHEMA)):
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)
        registry.register_on_missing(component)
        refs[name] = component.ref
    return {
        code: {
            "description": description,
            "content": {"application/json": {"schema": refs["NotFound" if code == "404" else "Errors"]}},
        }
        for code, description in ERROR_DESCRIPTIONS.items()
    }
