"""Middleware that acts on dashboard pages only, so the API (/api) answers exactly as before."""

import zoneinfo

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone, translation

from accounts.settings import AccountSettings
from dashboard.tenancy import current_account

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


class DashboardUserMiddleware:
    """On /dashboard paths with a signed-in user: the user's language (User.locale, set on every page's language
    switch) and the time zone of the account being viewed (the account setting `time_zone`, accounts/settings.py),
    so templates show times in it. No query for an ordinary user (the user is read with its account)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if request.path.startswith(DASHBOARD_PREFIX) and user is not None and user.is_authenticated:
            language = user.locale if user.locale in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
            translation.activate(language)
            request.LANGUAGE_CODE = language
            time_zone = AccountSettings.from_account(current_account(request)).time_zone
            timezone.activate(zoneinfo.ZoneInfo(time_zone))
            try:
                return self.get_response(request)
            finally:
                timezone.deactivate()
        return self.get_response(request)
