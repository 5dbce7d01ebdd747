from scfm.api.viewsets import ParentScope, ResourceViewSet

from .. import selectors, services
from ..filters import PhoneCallFilter
from .serializers import PhoneCallReadSerializer, PhoneCallWriteSerializer


class PhoneCallViewSet(ResourceViewSet):
    permission_resource = "phone_calls"
    location_prefix = "phone_calls"
    read_serializer_class = PhoneCallReadSerializer
    write_serializer_class = PhoneCallWriteSerializer
    filterset_class = PhoneCallFilter
    parent_scopes = {
        "callout_id": ParentScope("callouts.Callout", "callout_id"),
        "callout_participation_id": ParentScope(
            "callouts.CalloutParticipation", "callout_participation_id", account_path="callout__account"
        ),
        "contact_id": ParentScope("contacts.Contact", "contact_id"),
    }

    def base_queryset(self):
        return selectors.phone_call_list(account=self.account)

    def perform_create(self, data):
        return services.phone_call_create(participation=self.parent, **data)

    def perform_update(self, instance, data):
        return services.phone_call_update(phone_call=instance, **data)

    def perform_destroy(self, instance):
        services.phone_call_delete(phone_call=instance)

    def perform_event(self, instance, event):
        return services.phone_call_fire_event(phone_call=instance, event=event)
