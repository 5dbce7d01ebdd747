"""One error shape for the whole API: {"errors": {...}} (404s keep the original's {"status", "error"} body)."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from scfm.errors import DomainError
from scfm.limits import InputRejected

logger = logging.getLogger(__name__)


def _as_errors(detail) -> dict:
    if isinstance(detail, dict):
        return {key: _as_list(value) for key, value in detail.items()}
    return {"base": _as_list(detail)}


def _as_list(value):
    if isinstance(value, dict):
        return {key: _as_list(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        flat = []
        for item in value:
            flat.append(_as_list(item) if isinstance(item, dict) else str(item))
        return flat
    return [str(value)]


def not_found_body() -> dict:
    return {"status": 404, "error": "Not Found"}


def request_too_big_errors(exc: SuspiciousOperation) -> tuple[dict, int]:
    """The JSON error (body, status) for Django's refusals of a body while reading it: 413 for its size, 400 for
    too many fields or files, 400 for anything else it found suspicious."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return {"errors": {"base": [f"the request body is larger than {limit} bytes"]}}, 413
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return {"errors": {"base": [f"the request has more than {limit} fields"]}}, 400
    if isinstance(exc, TooManyFilesSent):
        return {"errors": {"base": [f"the request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files"]}}, 400
    return {"errors": {"base": ["Bad Request"]}}, 400


def exception_handler(exc, context):
    if isinstance(exc, InputRejected):
        set_rollback()
        return Response({"errors": exc.errors}, status=exc.status)
    if isinstance(exc, SuspiciousOperation):
        body, status_code = request_too_big_errors(exc)
        return Response(body, status=status_code)
    if isinstance(exc, DomainError):
        set_rollback()
        return Response({"errors": exc.errors}, status=422)
    if isinstance(exc, ProtectedError | RestrictedError):
        set_rollback()
        return Response({"errors": {"base": ["Cannot delete record because dependent records exist"]}}, status=422)
    if isinstance(exc, IntegrityError):
        set_rollback()
        logger.info("integrity error turned into 422: %s", exc)
        return Response({"errors": {"base": ["conflicts with an existing record"]}}, status=422)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404 | exceptions.NotFound):
        set_rollback()
        return Response(not_found_body(), status=404)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    response.data = {"errors": _as_errors(response.data if isinstance(exc, exceptions.ValidationError) else exc.detail)}
    return response


def json_not_found(request, exception=None):
    return JsonResponse(not_found_body(), status=404)


def json_bad_request(request, exception=None):
    """handler400: the views outside DRF (provider webhooks) answer Django's refusals in the same JSON shape."""
    body, status_code = request_too_big_errors(exception)
    return JsonResponse(body, status=status_code)


def json_server_error(request):
    return JsonResponse({"status": 500, "error": "Internal Server Error"}, status=500)
