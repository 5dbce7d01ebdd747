import uuid

from .logging import request_id_var


class RequestIdMiddleware:
    """Tags every request (and its log lines) with an id, taken from X-Request-Id when the caller sends one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-Id"] = request_id
        return response
