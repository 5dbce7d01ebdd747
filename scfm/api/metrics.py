"""`GET /metrics`: the Prometheus text exposition of scfm/metrics.py, for a super admin or the scraping network.

Who may read it (settings, docs/operations.md "Metrics"): by default a super-admin access token (any of the API's
ways to give one: `Authorization: Bearer`, HTTP Basic, `?access_token=`); without credentials 401, with a token of
another account 403, both in the API's error shape `{"errors": {"base": [...]}}`. `SCFM_METRICS_PUBLIC=true` opens it
to everyone, `SCFM_METRICS_ALLOWED_NETWORKS` to the clients whose address (REMOTE_ADDR) is in one of its networks;
those requests are not authenticated at all.
"""

import ipaddress

from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from scfm import metrics


def open_to(request) -> bool:
    """Whether `request` may read /metrics without credentials (SCFM_METRICS_PUBLIC, SCFM_METRICS_ALLOWED_NETWORKS)."""
    if settings.SCFM_METRICS_PUBLIC:
        return True
    networks = settings.SCFM_METRICS_ALLOWED_NETWORKS
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


class SuperAdminOrScrapingNetwork(BasePermission):
    message = "This action needs a super admin account."

    def has_permission(self, request, view) -> bool:
        if open_to(request):
            return True
        principal = request.user
        return bool(principal is not None and getattr(principal, "is_super_admin", False))


class JSONErrorsWhateverTheAccept(BaseContentNegotiation):
    """A scraper asks for text/plain or OpenMetrics; errors are JSON all the same (no 406 before the 401)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return None


class MetricsView(APIView):
    """200 text/plain; version=0.0.4: every metric of scfm/metrics.py; 401/403 `{"errors": ...}`."""

    permission_classes = [SuperAdminOrScrapingNetwork]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONErrorsWhateverTheAccept

    def get_authenticators(self):
        if open_to(self.request):  # self.request: the Django request here (View.setup), before DRF wraps it
            return []
        return super().get_authenticators()

    @extend_schema(exclude=True)  # operations, not the API contract (docs/operations.md)
    def get(self, request):
        return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE)


urlpatterns = [path("metrics", MetricsView.as_view(), name="metrics")]  # included by scfm/urls.py
