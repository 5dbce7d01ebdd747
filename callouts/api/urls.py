from django.urls import path

from scfm.api.routing import event, nested, resource

from .views import CalloutParticipationViewSet, CalloutViewSet

urlpatterns = [
    *resource("callouts", CalloutViewSet),
    *event("callouts/<int:pk>/callout_events", CalloutViewSet, name="callout-events"),
    path(
        "callouts/<int:pk>/callout_statistics",
        CalloutViewSet.as_view({"get": "statistics"}),
        name="callout-statistics",
    ),
    path(
        "callouts/<int:pk>/callout_statistics/series",
        CalloutViewSet.as_view({"get": "statistics_series"}),
        name="callout-statistics-series",
    ),
    *nested("contacts/<int:contact_id>/callouts", CalloutViewSet, name="contact-callouts"),
    *resource("callout_participations", CalloutParticipationViewSet, collection={"get": "list"}),
    *nested(
        "callouts/<int:callout_id>/callout_participations",
        CalloutParticipationViewSet,
        actions={"get": "list", "post": "create"},
        name="callout-callout-participations",
    ),
    *nested(
        "contacts/<int:contact_id>/callout_participations",
        CalloutParticipationViewSet,
        name="contact-callout-participations",
    ),
    *nested(
        "batch_operations/<int:batch_operation_id>/callout_participations",
        CalloutParticipationViewSet,
        name="batch-operation-callout-participations",
    ),
    *nested(
        "callout_populations/<int:batch_operation_id>/callout_participations",
        CalloutParticipationViewSet,
        name="callout-population-callout-participations",
    ),
]
