from django.urls import path

from scfm.api.routing import event, nested, resource

from .views import BatchOperationViewSet, CalloutPopulationViewSet

CREATE_AND_LIST = {"get": "list", "post": "create"}

urlpatterns = [
    *resource("batch_operations", BatchOperationViewSet),
    *nested(
        "callouts/<int:callout_id>/batch_operations",
        BatchOperationViewSet,
        actions=CREATE_AND_LIST,
        name="callout-batch-operations",
    ),
    *event("batch_operations/<int:pk>/batch_operation_events", BatchOperationViewSet, name="batch-operation-events"),
    path(
        "batch_operations/<int:pk>/preview/contacts",
        BatchOperationViewSet.as_view({"get": "preview_contacts"}),
        name="batch-operation-preview-contacts",
    ),
    path(
        "batch_operations/<int:pk>/preview/callout_participations",
        BatchOperationViewSet.as_view({"get": "preview_callout_participations"}),
        name="batch-operation-preview-callout-participations",
    ),
    path(
        "batch_operations/<int:pk>/preview/phone_calls",
        BatchOperationViewSet.as_view({"get": "preview_phone_calls"}),
        name="batch-operation-preview-phone-calls",
    ),
    path(
        "batch_operations/<int:pk>/phone_calls",
        BatchOperationViewSet.as_view({"get": "phone_calls"}),
        name="batch-operation-phone-calls",
    ),
    # rest-api-v1 aliases
    *resource("callout_populations", CalloutPopulationViewSet),
    *nested(
        "callouts/<int:callout_id>/callout_populations",
        CalloutPopulationViewSet,
        actions=CREATE_AND_LIST,
        name="callout-callout-populations",
    ),
    *event(
        "callout_populations/<int:pk>/callout_population_events",
        CalloutPopulationViewSet,
        name="callout-population-events",
    ),
    path(
        "callout_populations/<int:pk>/preview/contacts",
        CalloutPopulationViewSet.as_view({"get": "preview_contacts"}),
        name="callout-population-preview-contacts",
    ),
]
