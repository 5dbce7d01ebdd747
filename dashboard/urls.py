"""The dashboard's URLs, mounted at /dashboard/ with namespace `dashboard`: one module per area so the three parts
are edited apart (callouts; population, calls and recordings; sign-in, contacts, users, settings and API keys)."""

from django.urls import include, path

app_name = "dashboard"

urlpatterns = [
    path("", include("dashboard.urls_callouts")),
    path("", include("dashboard.urls_population")),
    path("", include("dashboard.urls_admin")),
]
