"""Remote phone call events (GET index + POST webhook on one path) and recordings."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from scfm.api.routing import nested, resource

from ..webhooks.views import phone_call_events
from .remote_event_views import RecordingViewSet, RemotePhoneCallEventViewSet

_event_index = RemotePhoneCallEventViewSet.as_view({"get": "list"})


@csrf_exempt
def remote_phone_call_events(request, *args, **kwargs):
    """POST: the documented provider webhook (signature-checked); anything else: the token-authenticated index."""
    if request.method == "POST":
        return phone_call_events(request)
    return _event_index(request, *args, **kwargs)


urlpatterns = [
    path("remote_phone_call_events", remote_phone_call_events, name="remote_phone_call_events-list"),
    *resource(
        "remote_phone_call_events",
        RemotePhoneCallEventViewSet,
        member={"get": "retrieve", "patch": "partial_update", "put": "update"},
    )[1:],
    *nested(
        "phone_calls/<int:phone_call_id>/remote_phone_call_events",
        RemotePhoneCallEventViewSet,
        name="phone-call-remote-phone-call-events",
    ),
    *nested(
        "callout_participations/<int:callout_participation_id>/remote_phone_call_events",
        RemotePhoneCallEventViewSet,
        name="callout-participation-remote-phone-call-events",
    ),
    *nested(
        "callouts/<int:callout_id>/remote_phone_call_events",
        RemotePhoneCallEventViewSet,
        name="callout-remote-phone-call-events",
    ),
    *nested(
        "contacts/<int:contact_id>/remote_phone_call_events",
        RemotePhoneCallEventViewSet,
        name="contact-remote-phone-call-events",
    ),
    *resource("recordings", RecordingViewSet, collection={"get": "list"}, member={"get": "retrieve"}),
    path("recordings/<int:pk>.mp3", RecordingViewSet.as_view({"get": "audio"}), name="recordings-audio"),
    path("recordings/<int:pk>.json", RecordingViewSet.as_view({"get": "retrieve"}), name="recordings-json"),
]
