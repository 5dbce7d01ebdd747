from scfm.api.routing import nested, resource

from .views import ContactViewSet

urlpatterns = [
    *resource("contacts", ContactViewSet),
    *nested("contact_data", ContactViewSet, actions={"post": "upsert"}, name="contact-data"),
    *nested("callouts/<int:callout_id>/contacts", ContactViewSet, name="callout-contacts"),
    *nested("batch_operations/<int:batch_operation_id>/contacts", ContactViewSet, name="batch-operation-contacts"),
    *nested(
        "callout_populations/<int:batch_operation_id>/contacts", ContactViewSet, name="callout-population-contacts"
    ),
]

from .imports import ContactImportViewSet  # noqa: E402

urlpatterns += resource(
    "contact_imports", ContactImportViewSet, collection={"get": "list", "post": "create"}, member={"get": "retrieve"}
)
