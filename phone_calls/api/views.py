"""Phone calls, their remote phone call events and recordings; and `/api/remote_phone_call_events`, where the GET
index and the providers' POST webhook share one path (`remote_phone_call_events` below)."""

from django.http import FileResponse, HttpResponseRedirect
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema

from callouts import selectors as callout_selectors
from scfm.api.fields import MetadataWriteSerializer
from scfm.api.viewsets import ParentScope, ResourceViewSet

from .. import selectors, services
from ..filters import PhoneCallFilter, RecordingFilter, RemotePhoneCallEventFilter
from ..remote_events import remote_phone_call_event_update
from ..webhooks.views import phone_call_events
from .serializers import (
    PhoneCallReadSerializer,
    PhoneCallWriteSerializer,
    RecordingReadSerializer,
    RemotePhoneCallEventReadSerializer,
)


class PhoneCallViewSet(ResourceViewSet):
    permission_resource = "phone_calls"
    location_prefix = "phone_calls"
    read_serializer_class = PhoneCallReadSerializer
    write_serializer_class = PhoneCallWriteSerializer
    filterset_class = PhoneCallFilter
    event_names = services.PHONE_CALL_EVENTS
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

    def known_total(self):
        if set(self.kwargs) != {"callout_id"}:
            return None
        return callout_selectors.callout_phone_calls_total(
            callout_id=self.parent.pk, query_params=self.request.query_params
        )


class RemotePhoneCallEventViewSet(ResourceViewSet):
    """Index, show and update (metadata only) of the callbacks the providers posted."""

    permission_resource = "remote_phone_call_events"
    location_prefix = "remote_phone_call_events"
    schema_description = (
        "A remote phone call event is a callback a provider posted about a call (its form parameters in `details`). "
        "Only `metadata` can be changed."
    )
    read_serializer_class = RemotePhoneCallEventReadSerializer
    update_serializer_class = MetadataWriteSerializer
    filterset_class = RemotePhoneCallEventFilter
    parent_scopes = {
        "phone_call_id": ParentScope("phone_calls.PhoneCall", "phone_call_id"),
        "callout_participation_id": ParentScope(
            "callouts.CalloutParticipation", "phone_call__callout_participation_id", account_path="callout__account"
        ),
        "callout_id": ParentScope("callouts.Callout", "phone_call__callout_id"),
        "contact_id": ParentScope("contacts.Contact", "phone_call__contact_id"),
    }

    def base_queryset(self):
        return selectors.remote_phone_call_event_list(account=self.account)

    def perform_update(self, instance, data):
        return remote_phone_call_event_update(event=instance, **data)


_event_index = RemotePhoneCallEventViewSet.as_view({"get": "list"})


@csrf_exempt
def remote_phone_call_events(request, *args, **kwargs):
    """`/api/remote_phone_call_events`. POST: the documented provider webhook, signature-checked
    (phone_calls/webhooks/views.py `phone_call_events`); anything else: the token-authenticated index."""
    if request.method == "POST":
        return phone_call_events(request)
    return _event_index(request, *args, **kwargs)


class RecordingViewSet(ResourceViewSet):
    """Index and show of recordings; `/api/recordings/:id.mp3` serves the audio."""

    permission_resource = "recordings"
    location_prefix = "recordings"
    schema_description = "Recordings of calls whose call flow records the caller; the audio is at `.mp3`."
    read_serializer_class = RecordingReadSerializer
    filterset_class = RecordingFilter

    def base_queryset(self):
        return selectors.recording_list(account=self.account)

    @extend_schema(
        summary="Download a recording's audio",
        description="The recording as MP3, once fetched from the provider; until then a 302 to the provider's copy.",
        responses={
            (200, "audio/mpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The MP3."),
            302: OpenApiResponse(description="Not fetched yet: `Location` is the provider's copy."),
        },
    )
    def audio(self, request, *args, **kwargs):
        """The stored mp3, or a 302 to the provider's copy while it has not been fetched yet."""
        recording = self.get_object()
        if recording.audio_file:
            return FileResponse(recording.audio_file.open("rb"), content_type="audio/mpeg")
        return HttpResponseRedirect(f"{recording.external_recording_url}.mp3")
