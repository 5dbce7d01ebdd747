from django.http import JsonResponse

from . import health as health_checks


def health(request):
    """Database and broker reachability: 200 when both answer, 503 otherwise."""
    checks = health_checks.run_checks()
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )
