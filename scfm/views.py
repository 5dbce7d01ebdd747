"""The health probes: /health/live, /health/ready and /health (scfm.health says what each one checks)."""

import asyncio

from django.http import JsonResponse
from health_check.views import HealthCheckView

from . import health as health_checks


class HealthView(HealthCheckView):
    """Runs its checks concurrently (each within its own timeout) and answers in our shape whatever the Accept
    header: 200 {"status": "ok", "checks": {"database": {"ok": true}, ...}}, or 503 {"status": "unavailable",
    "checks": {..., "broker": {"ok": false, "error": "..."}}}. Never cached."""

    checks = health_checks.MONITORING_CHECKS

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            results = await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
        body, status = health_checks.results_body(list(results))
        return JsonResponse(body, status=status)


live = HealthView.as_view(checks=health_checks.LIVE_CHECKS)
ready = HealthView.as_view(checks=health_checks.READY_CHECKS)
health = HealthView.as_view(checks=health_checks.MONITORING_CHECKS)
