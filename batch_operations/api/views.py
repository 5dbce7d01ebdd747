from drf_spectacular.utils import extend_schema

from callouts.api.serializers import CalloutParticipationReadSerializer
from contacts.api.serializers import ContactReadSerializer
from phone_calls.api.serializers import PhoneCallReadSerializer
from scfm.api.filters import SortBackend
from scfm.api.viewsets import ParentScope, ResourceViewSet

from .. import selectors, services
from ..filters import BatchOperationFilter, CalloutPopulationFilter
from ..models import BatchOperation
from ..phone_call_operations import batch_operation_phone_calls
from .serializers import (
    BatchOperationReadSerializer,
    BatchOperationUpdateSerializer,
    BatchOperationWriteSerializer,
    CalloutPopulationReadSerializer,
    CalloutPopulationUpdateSerializer,
    CalloutPopulationWriteSerializer,
)


class BatchOperationViewSet(ResourceViewSet):
    permission_resource = "batch_operations"
    location_prefix = "batch_operations"
    read_serializer_class = BatchOperationReadSerializer
    write_serializer_class = BatchOperationWriteSerializer
    update_serializer_class = BatchOperationUpdateSerializer
    filterset_class = BatchOperationFilter
    parent_scopes = {"callout_id": ParentScope("callouts.Callout", "callout_id")}
    paged_actions = ("list", "preview_contacts", "preview_callout_participations", "preview_phone_calls", "phone_calls")
    event_names = services.EVENTS
    schema_description = (
        "A batch operation is previewed, then run in the background in chunks: `type` is one of "
        "`BatchOperation::CalloutPopulation` (add the contacts `parameters.contact_filter_params` selects to the "
        "callout), `BatchOperation::PhoneCallCreate`, `BatchOperation::PhoneCallQueue` or "
        "`BatchOperation::PhoneCallQueueRemoteFetch`; `processed_count` reports progress."
    )

    # reads of other resources: they need that resource's read permission
    resource_permissions = {
        "preview_contacts": "contacts_read",
        "preview_callout_participations": "callout_participations_read",
        "preview_phone_calls": "phone_calls_read",
        "phone_calls": "phone_calls_read",
    }

    def required_permission(self, request) -> str:
        if self.action in self.resource_permissions:
            return self.resource_permissions[self.action]
        return f"batch_operations_{'read' if request.method in ('GET', 'HEAD', 'OPTIONS') else 'write'}"

    def base_queryset(self):
        return selectors.batch_operation_list(account=self.account)

    def perform_create(self, data):
        return services.batch_operation_create(account=self.account, callout=self.parent, **data)

    def perform_update(self, instance, data):
        return services.batch_operation_update(batch_operation=instance, **data)

    def perform_destroy(self, instance):
        services.batch_operation_delete(batch_operation=instance)

    def perform_event(self, instance, event):
        return services.batch_operation_fire_event(batch_operation=instance, event=event)

    @extend_schema(
        summary="Preview the contacts of a batch operation",
        description="The contacts a callout population would add (or a PhoneCallCreate would call) if it ran now, "
        "a page at a time (`page`, `per_page`, `sort`; `Per-Page`, `Total`, `Link` headers). Needs `contacts_read`.",
        responses=ContactReadSerializer(many=True),
    )
    def preview_contacts(self, request, *args, **kwargs):
        """GET .../:id/preview/contacts: who a population would add (or a PhoneCallCreate would call) if it ran
        now (paginated)."""
        contacts = selectors.batch_operation_preview(batch_operation=self.get_object(), resource="contacts")
        return self._page_of(contacts, ContactReadSerializer)

    @extend_schema(
        summary="Preview the callout participations of a batch operation",
        description="The callout participations a PhoneCallCreate would create calls for if it ran now, a page at a "
        "time. Needs `callout_participations_read`.",
        responses=CalloutParticipationReadSerializer(many=True),
    )
    def preview_callout_participations(self, request, *args, **kwargs):
        """GET .../:id/preview/callout_participations: who a PhoneCallCreate would create calls for."""
        participations = selectors.batch_operation_preview(
            batch_operation=self.get_object(), resource="callout_participations"
        )
        return self._page_of(participations, CalloutParticipationReadSerializer)

    @extend_schema(
        summary="Preview the phone calls of a batch operation",
        description="The phone calls a PhoneCallQueue or PhoneCallQueueRemoteFetch would queue or fetch if it ran "
        "now, a page at a time. Needs `phone_calls_read`.",
        responses=PhoneCallReadSerializer(many=True),
    )
    def preview_phone_calls(self, request, *args, **kwargs):
        """GET .../:id/preview/phone_calls: the calls a PhoneCallQueue / PhoneCallQueueRemoteFetch would touch."""
        calls = selectors.batch_operation_preview(batch_operation=self.get_object(), resource="phone_calls")
        return self._page_of(calls, PhoneCallReadSerializer)

    @extend_schema(
        summary="List the phone calls of a batch operation",
        description="The phone calls the operation created, queued or fetched, a page at a time. Needs "
        "`phone_calls_read`.",
        responses=PhoneCallReadSerializer(many=True),
    )
    def phone_calls(self, request, *args, **kwargs):
        """GET .../:id/phone_calls: the calls the operation created, queued or fetched."""
        return self._page_of(batch_operation_phone_calls(batch_operation=self.get_object()), PhoneCallReadSerializer)

    def _page_of(self, queryset, serializer_class):
        page = self.paginate_queryset(SortBackend().filter_queryset(self.request, queryset, self))
        return self.get_paginated_response(serializer_class(page, many=True).data)


class CalloutPopulationViewSet(BatchOperationViewSet):
    """rest-api-v1's callout populations: the same batch operations, with contact_filter_params at the top level."""

    schema_description = (
        "rest-api-v1's callout populations: the batch operations of type `BatchOperation::CalloutPopulation`, with "
        "`contact_filter_params` (which contacts to add to the callout) at the top level."
    )
    location_prefix = "callout_populations"
    read_serializer_class = CalloutPopulationReadSerializer
    write_serializer_class = CalloutPopulationWriteSerializer
    update_serializer_class = CalloutPopulationUpdateSerializer
    filterset_class = CalloutPopulationFilter

    def base_queryset(self):
        return selectors.batch_operation_list(account=self.account, type=BatchOperation.Type.CALLOUT_POPULATION)

    @staticmethod
    def _with_contact_filter_params(data: dict, parameters: dict | None) -> dict:
        if "contact_filter_params" in data:
            parameters = {**(parameters or {}), "contact_filter_params": data.pop("contact_filter_params")}
        if parameters is not None:
            data["parameters"] = parameters
        return data

    def perform_create(self, data):
        data = self._with_contact_filter_params(data, data.get("parameters"))
        return super().perform_create({**data, "type": BatchOperation.Type.CALLOUT_POPULATION})

    def perform_update(self, instance, data):
        parameters = data.get("parameters", instance.parameters if "contact_filter_params" in data else None)
        return super().perform_update(instance, self._with_contact_filter_params(data, parameters))
