from django.urls import path, re_path

from dashboard.views import callouts

urlpatterns = [
    path("", callouts.callout_list, name="callout-list"),
    path("callouts/new", callouts.callout_new, name="callout-new"),
    path("callouts/<int:callout_id>", callouts.callout_detail, name="callout-detail"),
    path("callouts/<int:callout_id>/edit", callouts.callout_edit, name="callout-edit"),
    path("callouts/<int:callout_id>/delete", callouts.callout_delete, name="callout-delete"),
    path("callouts/<int:callout_id>/progress", callouts.callout_progress, name="callout-progress"),
    path("callouts/<int:callout_id>/series", callouts.callout_series, name="callout-series"),
    re_path(
        r"^callouts/(?P<callout_id>[0-9]+)/(?P<event>start|pause|resume|stop)$",
        callouts.callout_event,
        name="callout-event",
    ),
]
