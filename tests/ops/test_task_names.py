"""Celery task names are part of the deployment contract: messages already in a queue, beat's schedule and the task
routes in scfm/settings.py name tasks by string, so every task declares its name (name=...) and moving a module never
renames one."""

import ast
from fnmatch import fnmatch
from pathlib import Path

from scfm.celery import app

ROOT = Path(__file__).resolve().parents[2]

# The names tasks had when they were first queued in production; a task may be added, never renamed.
KNOWN_NAMES = {
    "batch_operations.tasks.run_batch_operation",
    "contacts.tasks.contact_import_run_task",
    "phone_calls.recording_tasks.recording_audio_fetch_task",
    "phone_calls.tasks.dial_batch",
    "phone_calls.tasks.dispatch_account_calls",
    "phone_calls.tasks.fetch_remote_call",
    "phone_calls.tasks.find_unrecorded_call",
    "phone_calls.tasks.queue_remote_call",
    "phone_calls.tasks.scheduler_tick",
    "phone_calls.tasks.simulate_call_outcome",
}


def _task_decorators():
    for path in ROOT.glob("*/tasks.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    call = decorator if isinstance(decorator, ast.Call) else None
                    func = call.func if call else decorator
                    if getattr(func, "id", getattr(func, "attr", None)) in {"shared_task", "task"}:
                        yield path.relative_to(ROOT), node.name, call


def test_every_task_declares_its_name():
    found = list(_task_decorators())
    assert found
    unnamed = [
        (str(path), name) for path, name, call in found if not call or "name" not in {k.arg for k in call.keywords}
    ]
    assert unnamed == []


def test_no_task_was_renamed():
    app.loader.import_default_modules()
    registered = {name for name in app.tasks if not name.startswith("celery.")}
    assert KNOWN_NAMES <= registered


def test_task_routes_name_registered_tasks():
    from django.conf import settings

    app.loader.import_default_modules()
    routes = getattr(settings, "CELERY_TASK_ROUTES", {}) or {}
    unmatched = [route for route in routes if not any(fnmatch(name, route) for name in app.tasks)]
    assert unmatched == []
