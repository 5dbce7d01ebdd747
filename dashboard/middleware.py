"""Middleware that acts on dashboard pages only, so the API (/api) answers exactly as before."""

from django.middleware.locale import LocaleMiddleware
from django.utils import timezone

from dashboard.tenancy import current_account
from dashboard.timezones import account_zone

DASHBOARD_PREFIX = "/dashboard"


class DashboardLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (language from the django_language cookie, then Accept-Language) for /dashboard
    paths only: API responses keep their headers (no Content-Language, no Vary: Accept-Language)."""

    def process_request(self, request):
        if request.path.startswith(DASHBOARD_PREFIX):
            super().process_request(request)

    def process_response(self, request, response):
        if request.path.startswith(DASHBOARD_PREFIX):
            return super().process_response(request, response)
        return response


class DashboardTimezoneMiddleware:
    """Shows times in the account's time zone (dashboard/timezones.py) on /dashboard pages of a signed-in user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if request.path.startswith(DASHBOARD_PREFIX) and user is not None and user.is_authenticated:
            with timezone.override(account_zone(current_account(request))):
                return self.get_response(request)
        return self.get_response(request)
