"""Middleware that acts on dashboard pages only, so the API (/api) answers exactly as before."""

from django.middleware.locale import LocaleMiddleware

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
