"""Routes of phone calls, remote phone call events (GET index + POST webhook on one path) and recordings."""

from django.urls import path

from scfm.api.routing import event, nested, resource, schema_as

from .views import PhoneCallViewSet, RecordingViewSet, RemotePhoneCallEventViewSet, remote_phone_call_events

urlpatterns = [
    *resource("phone_calls", PhoneCallViewSet, collection={"get": "list"}),
    *event("phone_calls/<int:pk>/phone_call_events", PhoneCallViewSet, name="phone-call-events"),
    *nested("callouts/<int:callout_id>/phone_calls", PhoneCallViewSet, name="callout-phone-calls"),
    *nested(
        "callout_participations/<int:callout_participation_id>/phone_calls",
        PhoneCallViewSet,
        actions={"get": "list", "post": "create"},
        name="callout-participation-phone-calls",
    ),
    *nested("contacts/<int:contact_id>/phone_calls", PhoneCallViewSet, name="contact-phone-calls"),
    # the webhook and the index share the path: remote_phone_call_events in views.py (the schema: the index here,
    # the webhook's POST in webhook_schema.py)
    path(
        "remote_phone_call_events",
        schema_as(remote_phone_call_events, RemotePhoneCallEventViewSet, {"get": "list"}),
        name="remote_phone_call_events-list",
    ),
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
