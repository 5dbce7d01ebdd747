"""The API's filter backends: a request's `q[...]` and `sort` handed to the query kit (scfm.query.filters), and the
query string's check of names.

The language itself (what `q[metadata][x.date.gt]` means, which values are 422s) lives in scfm/query/; these
backends only read the request. The kit's QueryError and ParamError are DomainErrors, which the exception handler
answers with 422.
"""

from rest_framework.filters import BaseFilterBackend

from scfm.query.filters import apply_filters, query_filters, sort_queryset
from scfm.query.params import check_names, nest_querydict

# Query parameters every request may carry: the token (accounts.authentication reads `?access_token=`) and DRF's
# format override (`?format=json`).
REQUEST_PARAMS = ("access_token", "format")


def request_params(request) -> dict:
    """The request's query string as a nested dict (`q[status]=a` -> `{"q": {"status": "a"}}`), parsed once.

    Raises ParamError (a 422) naming each key with malformed brackets (scfm.query.params)."""
    if not hasattr(request, "_nested_params"):
        request._nested_params = nest_querydict(request.query_params)
    return request._nested_params


def check_query_params(request, known) -> None:
    """Raise ParamError (a 422) for malformed bracket keys in the query string, or a name not in `known`
    (`{"stauts": ["is not a known parameter"]}`)."""
    check_names(request_params(request), known)


class QueryFilterBackend(BaseFilterBackend):
    """Filters a list with the view's `filterset_class` and the request's `q[...]` (or legacy `?status=...`)."""

    def query_param_names(self, view) -> set[str]:
        """`q` and, for the legacy unnested form, every filter name of the view's FilterSet."""
        filterset_class = getattr(view, "filterset_class", None)
        return {"q", *filterset_class.base_filters} if filterset_class else set()

    def filter_queryset(self, request, queryset, view):
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is None:
            return queryset
        return apply_filters(filterset_class, query_filters(request_params(request), filterset_class), queryset)

    def get_schema_operation_parameters(self, view):
        from .schema import filterset_parameters  # drf-spectacular's module imports DRF's views: loaded on demand

        return filterset_parameters(getattr(view, "filterset_class", None))


class SortBackend(BaseFilterBackend):
    """`sort=-id,created_at`; newest first by default; unknown columns are a 422."""

    def query_param_names(self, view) -> set[str]:
        return {"sort"}

    def filter_queryset(self, request, queryset, view):
        return sort_queryset(queryset, request.query_params.get("sort"))

    def get_schema_operation_parameters(self, view):
        from .schema import sort_parameters

        return sort_parameters(view)
