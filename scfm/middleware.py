import logging
import time
import uuid
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import Http404, JsonResponse

from .limits import INTEGER_MAX, INTEGER_MIN, MAX_DEPTH, InputRejected, check_pairs
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


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MULTIPART_CONTENT_TYPE = "multipart/form-data"


def rejected_response(rejected: InputRejected) -> JsonResponse:
    return JsonResponse({"errors": rejected.errors}, status=rejected.status)


class EdgeMiddleware:
    """Refuses, before any view runs, what no view could use (scfm.limits holds the rules), in the API's JSON
    error shape, for the API and the provider webhooks alike:

    - a body larger than its limit: 413. Multipart bodies (contact-import uploads) may be SCFM_UPLOAD_MAX_SIZE
      bytes; every other body DATA_UPLOAD_MAX_MEMORY_SIZE (SCFM_MAX_REQUEST_BODY_SIZE);
    - a query string or a form body holding a NUL (`%00`) in a name or a value, or a bracket key nested deeper than
      scfm.limits.MAX_DEPTH: 422 naming the parameter; more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields: 400.
      `access_token` is left to authentication (a token that can't exist is a 401);
    - JSON and multipart bodies are checked by the API's parsers (scfm.api.parsers), which read them anyway.

    An integer in the URL beyond the databases' 64-bit range is a 404 (process_view): no row has that id.
    HEAD responses leave with their headers only: Django's WSGI handler doesn't strip the body of the GET it ran.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            self.check_size(request)
            self.check_query_string(request)
            self.check_form_body(request)
        except InputRejected as rejected:
            return rejected_response(rejected)
        response = self.get_response(request)
        if request.method == "HEAD":
            if response.streaming:
                response.streaming_content = iter(())  # a file response still closes its file when answered
            else:
                response.content = b""
        return response

    @staticmethod
    def process_view(request, view_func, view_args, view_kwargs):
        """An integer in the URL (`/api/contacts/<id>`, `/api/callouts/<callout_id>/...`) beyond the 64-bit range
        names no row: 404 before the view builds a query the database can't run."""
        for value in (*view_args, *view_kwargs.values()):
            if isinstance(value, int) and not INTEGER_MIN <= value <= INTEGER_MAX:
                raise Http404("no row has an id beyond the 64-bit range")  # answered by handler404 (JSON)
        return None

    @staticmethod
    def check_size(request) -> None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise InputRejected({"base": ["Content-Length is not a number"]}, status=400) from None
        if request.content_type == MULTIPART_CONTENT_TYPE:
            limit = settings.SCFM_UPLOAD_MAX_SIZE
        else:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            raise InputRejected({"base": [f"the request body is larger than {limit} bytes"]}, status=413)

    @staticmethod
    def check_query_string(request) -> None:
        raw = request.META.get("QUERY_STRING", "")
        if not raw or not _needs_a_look(raw.encode("latin-1", "replace")):
            return
        try:
            pairs = [(key, value) for key, values in request.GET.lists() for value in values]
        except TooManyFieldsSent:
            raise InputRejected(
                {"base": [f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} query parameters"]}, status=400
            ) from None
        check_pairs(pairs, skip=("access_token",))

    @staticmethod
    def check_form_body(request) -> None:
        if request.method in ("GET", "HEAD", "OPTIONS") or request.content_type != FORM_CONTENT_TYPE:
            return
        raw = request.body
        if raw.lstrip()[:1] == b"{" or not _needs_a_look(raw):  # a JSON document sent as a form: the parser's
            return
        try:
            pairs = parse_qsl(
                raw.decode(request.encoding or "utf-8", "replace"),
                keep_blank_values=True,
                max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
            )
        except ValueError:
            raise InputRejected(
                {"base": [f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields"]}, status=400
            ) from None
        check_pairs(pairs)


def _needs_a_look(raw: bytes) -> bool:
    """Whether a query string or form body may hold a NUL, too many fields or a too-deep key; the common case (no
    `%00`, few `&`, few brackets: every provider callback) is answered without parsing it twice."""
    lowered = raw.lower()
    if b"%00" in lowered or b"\x00" in raw:
        return True
    if raw.count(b"&") >= settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:
        return True
    return raw.count(b"[") + lowered.count(b"%5b") > MAX_DEPTH
