import logging
import time
import uuid

from .logging import request_id_var

logger = logging.getLogger("scfm.request")
# polled by load balancers and container probes: logged at DEBUG
QUIET_PATHS = ("/health", "/health/live", "/health/ready")


class RequestIdMiddleware:
    """Tags every request (and its log lines) with an id, taken from X-Request-Id when the caller sends one.

    Logs each request once, when it is answered: method, path, status and duration, under the request's id.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            if request.path in QUIET_PATHS:
                level = logging.DEBUG
            else:
                level = logging.ERROR if response.status_code >= 500 else logging.INFO
            logger.log(
                level,
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            # this line is the request's log entry: Django's own "Not Found: ..." warning, written after the
            # middleware returns (so without the request id), would repeat it
            response._has_been_logged = True
        finally:
            request_id_var.reset(token)
        response["X-Request-Id"] = request_id
        return response
