from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from scfm import views

api_patterns = [
    path("", include("accounts.api.urls")),
    path("", include("contacts.api.urls")),
    path("", include("callouts.api.urls")),
    path("", include("batch_operations.api.urls")),
    path("", include("phone_calls.api.urls")),
    path("schema", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path(
        "docs",
        SpectacularSwaggerView.as_view(url_name="schema", authentication_classes=[], permission_classes=[]),
        name="docs",
    ),
    path(
        "redoc",
        SpectacularRedocView.as_view(
            url_name="schema",
            template_name="scfm/redoc.html",  # no Google Fonts: nothing fetched from the internet
            authentication_classes=[],
            permission_classes=[],
        ),
        name="redoc",
    ),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    path("twilio_webhooks/", include("phone_calls.webhooks.urls")),
    path("audio/", include("callouts.urls")),  # uploaded callout audio, at unguessable names (callouts/audio.py)
    path("dashboard", RedirectView.as_view(url="/dashboard/", permanent=False)),
    path("dashboard/", include("dashboard.urls")),
    path("health", views.health, name="health"),
    path("health/live", views.live, name="health-live"),
    path("health/ready", views.ready, name="health-ready"),
    path("", include("scfm.api.metrics")),  # /metrics
]

handler400 = "scfm.api.exceptions.json_bad_request"
handler404 = "scfm.api.exceptions.json_not_found"
handler500 = "scfm.api.exceptions.json_server_error"
