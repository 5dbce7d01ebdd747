"""Log formatting for every SCFM process (web, Celery worker, Celery beat, management commands): plain text or, with
SCFM_LOG_FORMAT=json, one JSON object per line (python-json-logger).

Each line is tagged with what is known where it was written:

- `request_id` — always ("-" outside an HTTP request); set by scfm.middleware.RequestIdMiddleware;
- `task_id`, `task_name` — inside a Celery task (read from Celery's current task);
- `phone_call_id`, `callout_id`, `account_id` — inside `log_context(...)` / `phone_call_log_context(...)`, and inside
  any task that takes an argument of that name (set by `task_ids_bind` on Celery's task_prerun signal).

Celery is told not to touch logging (scfm.celery connects `setup_logging`), so the worker and beat keep the handler
settings.LOGGING configures, as the web process and the management commands do.
"""

import inspect
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar, Token

from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
phone_call_id_var: ContextVar[int | None] = ContextVar("phone_call_id", default=None)
callout_id_var: ContextVar[int | None] = ContextVar("callout_id", default=None)
account_id_var: ContextVar[int | None] = ContextVar("account_id", default=None)

# The ids a log line can carry, each from its own context variable.
CONTEXT_IDS: dict[str, ContextVar[int | None]] = {
    "phone_call_id": phone_call_id_var,
    "callout_id": callout_id_var,
    "account_id": account_id_var,
}


@contextmanager
def log_context(**ids: int | None) -> Iterator[None]:
    """Tag every log line written inside the block with the given ids (`phone_call_id`, `callout_id`,
    `account_id`; None leaves one unset). Restored afterwards, so nested and consecutive blocks never leak into
    each other. Raises KeyError for any other name."""
    tokens = [(CONTEXT_IDS[name], CONTEXT_IDS[name].set(value)) for name, value in ids.items() if value is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def phone_call_log_context(phone_call_id: int) -> AbstractContextManager[None]:
    """Tag every log line written inside the block with `phone_call_id` (see `log_context`)."""
    return log_context(phone_call_id=phone_call_id)


_task_tokens: dict[str, list[tuple[ContextVar, Token]]] = {}


def task_ids_bind(sender=None, task_id: str | None = None, task=None, args=(), kwargs=None, **_) -> None:
    """Celery task_prerun receiver: a task taking `phone_call_id`, `callout_id` or `account_id` (by position or
    by name) tags its log lines with them until task_ids_unbind."""
    try:
        bound = inspect.signature(task.run).bind_partial(*(args or ()), **(kwargs or {})).arguments
    except (TypeError, ValueError):
        return
    tokens = [(var, var.set(bound[name])) for name, var in CONTEXT_IDS.items() if isinstance(bound.get(name), int)]
    if tokens and task_id:
        _task_tokens[task_id] = tokens


def task_ids_unbind(sender=None, task_id: str | None = None, **_) -> None:
    """Celery task_postrun receiver: undo task_ids_bind."""
    for var, token in reversed(_task_tokens.pop(task_id, [])):
        try:
            var.reset(token)
        except ValueError:  # set in another context (cannot happen with Celery's pools; be safe)
            var.set(None)


def _current_task():
    try:
        from celery._state import get_current_task
    except ImportError:  # pragma: no cover - celery is a dependency
        return None
    return get_current_task()


class ContextFilter(logging.Filter):
    """Adds request_id to every record, and task_id/task_name/phone_call_id/callout_id/account_id where known
    (a value passed in `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        for name, var in CONTEXT_IDS.items():
            value = var.get()
            if value is not None and getattr(record, name, None) is None:
                setattr(record, name, value)
        task = _current_task()
        if task is not None and getattr(task.request, "id", None) and not hasattr(record, "task_id"):
            record.task_id = task.request.id
            record.task_name = task.name
        return True


RequestIdFilter = ContextFilter  # the name settings and tests used before the task ids came in


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601 with milliseconds), level, logger, message, request_id; then
    whatever the record carries (task_id, task_name, phone_call_id, callout_id, account_id, the request line's
    method/path/status/duration_ms, any `extra=`), and exc_info with the formatted traceback."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["asctime", "levelname", "name", "message", "request_id"])
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - stdlib name
        from datetime import UTC, datetime

        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
