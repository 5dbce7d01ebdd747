from django.http import FileResponse, HttpResponseRedirect

from scfm.api.fields import MetadataWriteSerializer
from scfm.api.viewsets import ParentScope, ResourceViewSet

from .. import event_selectors
from ..remote_event_filters import RecordingFilter, RemotePhoneCallEventFilter
from ..remote_events import remote_phone_call_event_update
from .remote_event_serializers import RecordingReadSerializer, RemotePhoneCallEventReadSerializer


class RemotePhoneCallEventViewSet(ResourceViewSet):
    """Index, show and update (metadata only) of the callbacks the providers posted."""

    permission_resource = "remote_phone_call_events"
    location_prefix = "remote_phone_call_events"
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
        return event_selectors.remote_phone_call_event_list(account=self.account)

    def perform_update(self, instance, data):
        return remote_phone_call_event_update(event=instance, **data)


class RecordingViewSet(ResourceViewSet):
    """Index and show of recordings; `/api/recordings/:id.mp3` serves the audio."""

    permission_resource = "recordings"
    location_prefix = "recordings"
    read_serializer_class = RecordingReadSerializer
    filterset_class = RecordingFilter

    def base_queryset(self):
        return event_selectors.recording_list(account=self.account)

    def audio(self, request, *args, **kwargs):
        """The stored mp3, or a 302 to the provider's copy while it has not been fetched yet."""
        recording = self.get_object()
        if recording.audio_file:
            return FileResponse(recording.audio_file.open("rb"), content_type="audio/mpeg")
        return HttpResponseRedirect(f"{recording.external_recording_url}.mp3")
