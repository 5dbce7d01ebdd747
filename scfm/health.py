"""Health checks (django-health-check 4.x) for the three probes, and the heartbeats they read.

- `LIVE_CHECKS` — none: the process answers (`/health/live`);
- `READY_CHECKS` — database, broker, migrations applied (`/health/ready`): what the web needs to serve the API and
  the provider webhooks, and nothing more, so a dead worker never takes the webhooks down;
- `MONITORING_CHECKS` — the ready checks plus a worker consuming each queue and a recent scheduler tick (`/health`).

The scheduler tick (phone_calls.tasks.scheduler_tick) calls `scheduler_tick_record()` when it has done its work;
beat records `beat` each time it sends the tick (scfm.celery). Container probes for the worker and beat processes:
`python -m scfm.health worker|beat` (exit 0 healthy, 1 not; one line on stdout saying why).
"""

import dataclasses
import datetime
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone
from health_check import checks
from health_check.base import HealthCheck, HealthCheckResult
from health_check.exceptions import ServiceUnavailable

SCHEDULER_TICK_HEARTBEAT = "scheduler_tick"
BEAT_HEARTBEAT = "beat"
STALE_AFTER_INTERVALS = 3  # a heartbeat older than 3 scheduler intervals is stale


@contextmanager
def _own_connection() -> Iterator[None]:
    """Checks run in a thread of their own: open the database connection for the check and close it after."""
    with connections["default"].temporary_connection():
        yield


# -- heartbeats ---------------------------------------------------------------------------------------------------
def heartbeat_record(name: str) -> None:
    """Record that `name` is alive now (one upsert). A database error is logged, never raised: a heartbeat must
    not break the work it reports on."""
    import logging

    from scfm.models import Heartbeat

    try:
        Heartbeat.objects.bulk_create(
            [Heartbeat(name=name, beat_at=timezone.now())],
            update_conflicts=True,
            unique_fields=["name"],
            update_fields=["beat_at"],
        )
    except DatabaseError:
        logging.getLogger(__name__).warning("could not record the %s heartbeat", name, exc_info=True)


def scheduler_tick_record() -> None:
    """Called by the scheduler tick when it has done its work: the time /health compares to 3 intervals."""
    heartbeat_record(SCHEDULER_TICK_HEARTBEAT)


def heartbeat_age(name: str) -> datetime.timedelta | None:
    """How long ago `name` last recorded its heartbeat; None if it never did."""
    from scfm.models import Heartbeat

    beat_at = Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
    return None if beat_at is None else timezone.now() - beat_at


def heartbeat_deadline() -> datetime.timedelta:
    """A heartbeat older than this is stale: 3 × SCFM_SCHEDULER_INTERVAL."""
    return datetime.timedelta(seconds=STALE_AFTER_INTERVALS * settings.SCFM_SCHEDULER_INTERVAL)


# -- checks -------------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Database(checks.Database):
    """SELECT 1 on the default database."""

    name = "database"


@dataclasses.dataclass
class Broker(HealthCheck):
    """A connection to the Celery broker (CELERY_BROKER_URL) within `timeout`."""

    name = "broker"
    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=2), repr=False)

    def run(self) -> None:
        from scfm.celery import app

        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=self.timeout.total_seconds())
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
            raise ServiceUnavailable(str(exc) or type(exc).__name__) from exc


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Every migration on disk is applied to the database (a web started before `migrate` finished is not ready)."""

    name = "migrations"

    def run(self) -> None:
        from django.db.migrations.executor import MigrationExecutor

        try:
            with _own_connection():
                connection = connections["default"]
                executor = MigrationExecutor(connection)
                plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            raise ServiceUnavailable(str(exc).strip()) from exc
        if plan:
            pending = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in plan[:5])
            raise ServiceUnavailable(f"{len(plan)} migration(s) not applied: {pending}")


@dataclasses.dataclass
class Workers(HealthCheck):
    """At least one Celery worker answers within `timeout` and consumes each queue of CELERY_TASK_QUEUES (one
    `inspect active_queues` broadcast)."""

    name = "workers"
    timeout: datetime.timedelta = dataclasses.field(
        default_factory=lambda: datetime.timedelta(seconds=settings.SCFM_HEALTH_WORKER_TIMEOUT), repr=False
    )

    def run(self) -> None:
        from scfm.celery import app

        try:
            with app.connection_for_read() as connection:
                inspect = app.control.inspect(timeout=self.timeout.total_seconds(), connection=connection)
                replies = inspect.active_queues() or {}
        except Exception as exc:  # noqa: BLE001 - broker down, transport without broadcast...
            raise ServiceUnavailable(f"cannot reach the workers: {exc}") from exc
        if not replies:
            raise ServiceUnavailable(f"no worker answered within {self.timeout.total_seconds():g} s")
        consumed = {queue["name"] for queues in replies.values() for queue in queues or ()}
        missing = sorted({queue.name for queue in app.conf.task_queues} - consumed)
        if missing:
            raise ServiceUnavailable(f"no worker consumes the queue(s): {', '.join(missing)}")


@dataclasses.dataclass
class SchedulerTick(HealthCheck):
    """The scheduler tick last completed less than 3 × SCFM_SCHEDULER_INTERVAL ago (so beat sends it and a
    worker runs it)."""

    name = "scheduler"
    heartbeat: str = SCHEDULER_TICK_HEARTBEAT

    def run(self) -> None:
        try:
            with _own_connection():
                age = heartbeat_age(self.heartbeat)
        except DatabaseError as exc:
            raise ServiceUnavailable(str(exc).strip()) from exc
        deadline = heartbeat_deadline()
        if age is None:
            raise ServiceUnavailable(f"{self.heartbeat}: no heartbeat recorded yet")
        if age > deadline:
            raise ServiceUnavailable(
                f"{self.heartbeat}: last heartbeat {age.total_seconds():.0f} s ago "
                f"(stale after {deadline.total_seconds():g} s)"
            )


LIVE_CHECKS: tuple = ()
READY_CHECKS: tuple = (Database, Broker, Migrations)
MONITORING_CHECKS: tuple = (*READY_CHECKS, Workers, SchedulerTick)


def results_body(results: list[HealthCheckResult]) -> tuple[dict, int]:
    """Our body and status for a list of results: ({"status": "ok"|"unavailable", "checks": {name: {"ok": true} |
    {"ok": false, "error": "..."}}}, 200|503)."""
    body_checks = {}
    for result in results:
        entry: dict = {"ok": result.error is None}
        if result.error is not None:
            entry["error"] = result.error.message
        body_checks[getattr(result.check, "name", type(result.check).__name__)] = entry
    healthy = all(entry["ok"] for entry in body_checks.values())
    return {"status": "ok" if healthy else "unavailable", "checks": body_checks}, 200 if healthy else 503


# -- container probes ---------------------------------------------------------------------------------------------
def _probe_worker(hostname: str) -> tuple[bool, str]:
    from scfm.celery import app

    timeout = settings.SCFM_HEALTH_WORKER_TIMEOUT
    with app.connection_for_read() as connection:
        replies = app.control.ping(destination=[hostname], timeout=timeout, connection=connection) or []
    if any(hostname in reply for reply in replies):
        return True, f"{hostname} answered"
    return False, f"{hostname} did not answer within {timeout:g} s"


def _probe_beat() -> tuple[bool, str]:
    age = heartbeat_age(BEAT_HEARTBEAT)
    deadline = heartbeat_deadline()
    if age is None:
        return False, "beat has not sent a scheduler tick yet"
    if age > deadline:
        seconds, limit = age.total_seconds(), deadline.total_seconds()
        return False, f"beat last sent the scheduler tick {seconds:.0f} s ago (stale after {limit:g} s)"
    return True, f"beat sent the scheduler tick {age.total_seconds():.0f} s ago"


def main(argv: list[str]) -> int:
    """`python -m scfm.health worker [NODENAME]` or `python -m scfm.health beat`: exit 0 when healthy."""
    import socket

    import django

    django.setup()
    match argv:
        case ["worker"]:
            healthy, why = _probe_worker(f"worker@{socket.gethostname()}")  # the name compose's %h gives it
        case ["worker", hostname]:
            healthy, why = _probe_worker(hostname)
        case ["beat"]:
            healthy, why = _probe_beat()
        case _:
            print("usage: python -m scfm.health worker [NODENAME] | beat", file=sys.stderr)
            return 2
    print(why)
    return 0 if healthy else 1


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scfm.settings")
    sys.exit(main(sys.argv[1:]))
