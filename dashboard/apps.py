from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The staff web UI at /dashboard/ (issue 14): server-rendered pages over the same services and selectors as
    the API, htmx for the live parts, English and Khmer."""

    name = "dashboard"
    default_auto_field = "django.db.models.BigAutoField"
