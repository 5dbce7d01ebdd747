from scfm.api.routing import event, nested, resource

from .views import PhoneCallViewSet

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
]
