"""Log formatting: plain text or one JSON object per line, each line tagged with the request id (and, while a
phone call is being dialled, fetched or simulated, with its id)."""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
phone_call_id_var: ContextVar[int | None] = ContextVar("phone_call_id", default=None)


@contextmanager
def phone_call_log_context(phone_call_id: int) -> Iterator[None]:
    """Tag every log line written inside the block with `phone_call_id` (restored afterwards, so nested and
    consecutive calls in one worker never leak into each other)."""
    token = phone_call_id_var.set(phone_call_id)
    try:
        yield
    finally:
        phone_call_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        phone_call_id = phone_call_id_var.get()
        if phone_call_id is not None and not hasattr(record, "phone_call_id"):
            record.phone_call_id = phone_call_id
        return True


EXTRA_FIELDS = ("method", "path", "status", "duration_ms")  # the request log line's fields (scfm.middleware)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and phone_call_id / request fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if getattr(record, "phone_call_id", None) is not None:
            payload["phone_call_id"] = record.phone_call_id
        for name in EXTRA_FIELDS:
            if hasattr(record, name):
                payload[name] = getattr(record, name)
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload)
