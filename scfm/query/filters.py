"""The `q[...]` filter language, written once and declared per resource with a FilterSet (rest-api-current.txt,
"Filtering, Sorting and Pagination").

`?q[status]=a,b` (comma = OR), `?q[metadata][gender]=f` (JSON operators, see json_query), `q[created_at_after]=...`,
`q[msisdn]=...` (normalised, contacts.filters.MsisdnFilter), `q[duration_gt]=10`. Unknown filters, operators and bad
values raise QueryError, a DomainError the API answers with a 422. Used by the API (scfm.api.filters adapts a request)
and by domain code such as batch operations; nothing here imports DRF.
"""

import functools
from datetime import UTC, datetime

import django_filters
from django import forms
from django.utils.dateparse import parse_date, parse_datetime

from scfm.errors import DomainError
from scfm.limits import InputRejected, bounded_int

from .json_query import JsonMatch, parse_json_filter
from .params import unknown_names

RESERVED_PARAMS = {"page", "per_page", "sort", "access_token", "format", "q"}


class QueryError(DomainError):
    """Bad filters. `detail` is the messages: a list (`["must be a hash of filters"]`) or a dict by filter name
    (`{"status": ["is not a known filter"]}`); `errors` (the 422 body) holds them under `key`, the parameter that
    carried the filters ("q", "contact_filter_params"), or as they are when there is no key (a list becomes
    `{"base": [...]}`)."""

    def __init__(self, detail: list | dict, key: str | None = None):
        self.detail = detail
        self.key = key
        if key:
            errors = {key: detail}
        else:
            errors = detail if isinstance(detail, dict) else {"base": list(detail)}
        super().__init__(errors)

    def under(self, key: str) -> "QueryError":
        """These errors held under `key`: `{key: detail}` (`{key: errors}` if they already have a key)."""
        return QueryError(self.detail if self.key is None else self.errors, key)


class RawWidget(forms.Widget):
    def value_from_datadict(self, data, files, name):
        return data.get(name)


class RawField(forms.Field):
    widget = RawWidget


def csv_values(value) -> list[str]:
    """`"a, b,,c"` or `["a", " b"]` -> `["a", "b", "c"]` (stripped, blanks dropped); None -> []."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [item.strip() for item in str(value).split(",") if item.strip()]


class JSONQueryField(RawField):
    def to_python(self, value):
        if value in (None, "", {}):
            return None
        try:
            return parse_json_filter(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class JSONFilter(django_filters.Filter):
    """Filters a JSON column with the operators of json_query."""

    field_class = JSONQueryField

    def filter(self, qs, value):
        for condition in value or []:
            qs = qs.filter(JsonMatch(self.field_name, condition))
        return qs


class CsvField(RawField):
    def __init__(self, *args, integer=False, **kwargs):
        self.integer = integer
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, dict):
            raise forms.ValidationError("must be a value or a comma-separated list")
        values = csv_values(value)
        if self.integer:
            try:  # ids beyond the databases' 64-bit range are refused, not sent (scfm.limits)
                return [bounded_int(item, name="id", minimum=0) for item in values]
            except InputRejected:
                raise forms.ValidationError("must be a comma-separated list of ids") from None
        return values


class CsvFilter(django_filters.Filter):
    """A plain column filter: `a,b` matches either value."""

    field_class = CsvField

    def __init__(self, *args, integer=False, **kwargs):
        super().__init__(*args, integer=integer, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class TimestampField(RawField):
    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip()
        invalid = forms.ValidationError(f"'{text[:64]}' is not a date or a time")
        try:  # a well-formed date that doesn't exist (2024-02-30, 2023-13-01) is a ValueError: a 422 too
            parsed_date = parse_date(text)
        except ValueError:
            raise invalid from None
        if parsed_date is not None:
            return parsed_date
        try:
            parsed = parse_datetime(text.replace(" ", "T", 1) if "T" not in text else text)
            parsed = parsed if parsed is None or parsed.tzinfo else parsed.replace(tzinfo=UTC)
            if parsed is not None:
                parsed.astimezone(UTC)  # 0001-01-01T00:00+01:00 has no UTC time: OverflowError
        except (ValueError, OverflowError):
            parsed = None
        if parsed is None:
            raise invalid
        return parsed


TIMESTAMP_LOOKUPS = {"before": "lt", "or_before": "lte", "after": "gt", "or_after": "gte"}


class TimestampFilter(django_filters.Filter):
    """`<column>_before|_or_before|_after|_or_after`; a bare date compares whole days."""

    field_class = TimestampField

    def filter(self, qs, value):
        if value is None:
            return qs
        if isinstance(value, datetime):
            return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": value})
        return qs.filter(**{f"{self.field_name}__date__{self.lookup_expr}": value})


def timestamp_filters(column: str) -> dict[str, TimestampFilter]:
    """`{"<column>_before": ..., "_or_before", "_after", "_or_after"}`: the four timestamp filters of a column."""
    return {
        f"{column}_{suffix}": TimestampFilter(field_name=column, lookup_expr=lookup)
        for suffix, lookup in TIMESTAMP_LOOKUPS.items()
    }


def comparison_filters(column: str) -> dict[str, django_filters.NumberFilter]:
    """`{"<column>_gt": ..., "_gteq", "_lt", "_lteq"}`: the four number comparisons of a column."""
    return {
        f"{column}_{suffix}": django_filters.NumberFilter(field_name=column, lookup_expr=lookup)
        for suffix, lookup in {"gt": "gt", "gteq": "gte", "lt": "lt", "lteq": "lte"}.items()
    }


class BooleanFilter(django_filters.Filter):
    """`true|false|1|0|t|f`; anything else raises QueryError. `apply(qs, flag)` replaces the plain column match."""

    field_class = RawField

    def __init__(self, *args, apply=None, **kwargs):
        self.apply = apply
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        text = str(value).strip().lower()
        if text not in ("true", "false", "1", "0", "t", "f"):
            raise QueryError(["must be true or false"])
        flag = text in ("true", "1", "t")
        if self.apply:
            return self.apply(qs, flag)
        return qs.filter(**{self.field_name: flag})


class NestedFilter(django_filters.Filter):
    """Applies another resource's FilterSet to a related model (e.g. `callout_filter_params`)."""

    field_class = RawField

    def __init__(self, filterset_class_path: str, *args, **kwargs):
        self.filterset_class_path = filterset_class_path
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, "", {}):
            return qs
        if not isinstance(value, dict):
            raise QueryError(["must be a hash of filters"])
        from django.utils.module_loading import import_string

        filterset_class = import_string(self.filterset_class_path)
        related = apply_filters(filterset_class, value, filterset_class._meta.model.objects.all(), error_key=None)
        return qs.filter(**{f"{self.field_name}__in": related.values("pk")})


class TimestampedFilterSet(django_filters.FilterSet):
    """What every index can filter on: the created_at / updated_at timestamps.

    A QueryError raised while a filter is applied (`must be true or false`, a nested filter's own errors) is held
    under that filter's name, so `q[callout_filter_params][nope]=1` names `q` > `callout_filter_params` > `nope`.
    """

    def filter_queryset(self, queryset):
        for name, value in self.form.cleaned_data.items():
            filter_ = self.filters[name]
            try:
                queryset = filter_.filter(queryset, value)
            except QueryError as error:
                detail = error.detail if error.key is None else error.errors
                if isinstance(detail, dict) and set(detail) == {filter_.field_name}:  # a filter that named itself
                    detail = detail[filter_.field_name]
                raise QueryError({name: detail}) from None
        return queryset

    locals().update(timestamp_filters("created_at"))
    locals().update(timestamp_filters("updated_at"))


class ResourceFilterSet(TimestampedFilterSet):
    """The timestamps plus metadata: every resource that has a metadata column."""

    metadata = JSONFilter(field_name="metadata")


@functools.lru_cache(maxsize=512)
def _narrowed(filterset_class, names: frozenset[str]):
    """`filterset_class` with only the filters `names`. django-filter deep-copies every filter of a FilterSet and
    builds and validates a form field for each on every request: ~5 ms of a list request for the phone calls' ~40
    filters (measured on the 1M-call benchmark, bench/statistics.py), when a request names one or two. The filters
    left out would pass the rows through, as they do for an absent value."""
    narrowed: type[django_filters.FilterSet] = type(
        filterset_class.__name__, (filterset_class,), {"__module__": filterset_class.__module__}
    )
    narrowed.base_filters = {name: f for name, f in filterset_class.base_filters.items() if name in names}
    return narrowed


def apply_filters(filterset_class, data: dict, queryset, *, error_key: str | None = "q"):
    """`queryset` narrowed by `data` (`{"status": "a,b", "metadata": {...}}`), validated against the FilterSet.

    Raises QueryError (a DomainError, so a 422) for a `data` that is not a dict, an unknown filter name, a filter
    named without a value (`q[status]=`, `{"msisdn": null}`: "can't be blank") or a bad value, with the messages
    under `error_key` (None: unkeyed, for a caller that keys them itself).
    """
    if not isinstance(data, dict):
        raise QueryError(["must be a hash of filters"], error_key)
    unknown = unknown_names(data, filterset_class.base_filters, "is not a known filter")
    if unknown:
        raise QueryError(unknown, error_key)
    blank = {name: ["can't be blank"] for name, value in data.items() if value is None or value in ("", [])}
    if blank:  # a filter named without a value is never "no filter" (a population would take everyone)
        raise QueryError(blank, error_key)
    if not data:  # no filter: every filter would pass the rows through (each ignores an absent value)
        return queryset
    filterset = _narrowed(filterset_class, frozenset(data))(data=data, queryset=queryset)
    if not filterset.is_valid():
        raise QueryError(
            {name: [str(message) for message in messages] for name, messages in filterset.errors.items()}, error_key
        )
    try:
        return filterset.qs
    except QueryError as error:  # raised while applying a filter, already held under the filter's name
        raise QueryError(error.detail, error_key) from None


def query_filters(params: dict, filterset_class) -> dict:
    """The filters of a nested request params dict: `q[...]`, plus the legacy unnested form (`?status=...`) for the
    FilterSet's declared names that `q` does not give. Raises QueryError if `q` is not a hash."""
    query = params.get("q") or {}
    if not isinstance(query, dict):
        raise QueryError(["must be a hash of filters"], "q")
    legacy = {
        key: value
        for key, value in params.items()
        if key not in RESERVED_PARAMS and key in filterset_class.base_filters and key not in query
    }
    return {**legacy, **query}


def sort_queryset(queryset, sort: str | None):
    """`sort=-id,created_at` applied to `queryset`: comma-separated concrete column names (or attnames such as
    `account_id`), `-` for descending; newest first (`-id`) when empty. An unknown column raises QueryError
    (`{"sort": ["'x' is not a sortable column"]}`)."""
    model = queryset.model
    columns = {field.name for field in model._meta.concrete_fields} | {
        field.attname for field in model._meta.concrete_fields
    }
    ordering = []
    for item in [part.strip() for part in (sort or "-id").split(",") if part.strip()]:
        name = item.lstrip("-")
        if name not in columns:
            raise QueryError({"sort": [f"'{name}' is not a sortable column"]})
        ordering.append(item if not item.startswith("-") else f"-{name}")
    return queryset.order_by(*ordering)
