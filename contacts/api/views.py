from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from scfm.api.viewsets import ParentScope, ResourceViewSet

from .. import selectors, services
from ..filters import ContactFilter
from .serializers import ContactReadSerializer, ContactUpdateSerializer, ContactWriteSerializer


class ContactViewSet(ResourceViewSet):
    permission_resource = "contacts"
    location_prefix = "contacts"
    read_serializer_class = ContactReadSerializer
    write_serializer_class = ContactWriteSerializer
    update_serializer_class = ContactUpdateSerializer
    filterset_class = ContactFilter
    parent_scopes = {
        "callout_id": ParentScope("callouts.Callout", "callout_participations__callout_id"),
        "batch_operation_id": ParentScope(
            "batch_operations.BatchOperation", "callout_participations__callout_population_id"
        ),
    }

    def base_queryset(self):
        return selectors.contact_list(account=self.account)

    def perform_create(self, data):
        return services.contact_create(account=self.account, **data)

    def perform_update(self, instance, data):
        return services.contact_update(contact=instance, **data)

    def perform_destroy(self, instance):
        services.contact_delete(contact=instance)

    @extend_schema(
        summary="Create or update a contact by msisdn",
        description="Creates the contact with this `msisdn` in the caller's account, or updates the one that has it "
        "(its `metadata` merged as `metadata_merge_mode` says). Always answers 201 with the contact and its "
        "`Location`.",
        request=ContactWriteSerializer,
        responses={201: ContactReadSerializer},
    )
    def upsert(self, request, *args, **kwargs):
        """POST /api/contact_data: create or update by msisdn (always 201)."""
        contact = services.contact_upsert(account=self.account, **self.validated(ContactWriteSerializer))
        return Response(
            self.read(contact), status=status.HTTP_201_CREATED, headers={"Location": self.location(contact)}
        )
