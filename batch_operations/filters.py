"""q[...] filters of batch operations (and of their v1 alias, callout populations)."""

from dataclasses import replace

from scfm.query.filters import CsvFilter, JSONFilter, ResourceFilterSet

from .models import BatchOperation


class BatchOperationFilter(ResourceFilterSet):
    callout_id = CsvFilter(field_name="callout_id", integer=True)
    status = CsvFilter(field_name="status")
    type = CsvFilter(field_name="type")
    parameters = JSONFilter(field_name="parameters")

    class Meta:
        model = BatchOperation
        fields = []


class ContactFilterParamsFilter(JSONFilter):
    """v1's `contact_filter_params[...]`: a JSON filter on parameters.contact_filter_params."""

    def filter(self, qs, value):
        return super().filter(
            qs, [replace(condition, path=("contact_filter_params", *condition.path)) for condition in value or []]
        )


class CalloutPopulationFilter(BatchOperationFilter):
    contact_filter_params = ContactFilterParamsFilter(field_name="parameters")

    class Meta:
        model = BatchOperation
        fields = []
