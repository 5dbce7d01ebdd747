"""Reachability checks for /health."""

from django.db import connection


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return {"ok": False, "error": str(exc)}


def check_broker() -> dict:
    from scfm.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)}


def run_checks() -> dict:
    return {"database": check_database(), "broker": check_broker()}
