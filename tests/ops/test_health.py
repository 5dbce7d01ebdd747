"""The health probes: /health/live (process up), /health/ready (database, broker, migrations), /health (plus a
worker on each queue and a recent scheduler tick), and the worker and beat container probes (python -m
scfm.health). The body keeps one shape: {"status": "ok"|"unavailable", "checks": {name: {"ok": ..., "error": ...}}}.

Checks run in threads with their own database connections, so tests that write heartbeats commit them
(transactional_db)."""

import datetime
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from scfm.celery import app
from scfm.health import BEAT_HEARTBEAT, SCHEDULER_TICK_HEARTBEAT, heartbeat_age, scheduler_tick_record
from scfm.models import Heartbeat

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def broker_url(monkeypatch):
    """Point the in-process Celery app at a broker for the test; restored afterwards. The app's connection and
    producer pools (control commands publish through them) are dropped each time, so they follow the URL."""
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery reads it before app.conf
    urls = ("broker_url", "broker_read_url", "broker_write_url")
    keys = (*urls, "broker_transport", "broker_transport_options")  # laptop mode names its transport and folders
    previous = {key: app.conf.get(key) for key in keys}  # the raw values (read/write None: they follow broker_url)

    def use(url: str) -> None:
        app.conf.update({key: url for key in urls} | {"broker_transport": None, "broker_transport_options": {}})
        app._pool = None
        app.amqp._producer_pool = None

    yield use
    app.conf.update(previous)
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def quick_worker_timeout(settings):
    settings.SCFM_HEALTH_WORKER_TIMEOUT = 0.5


@pytest.fixture
def worker(redis_url, broker_url, tmp_path):
    """Start a real Celery worker on the test Redis (consuming `queues`), wait until it answers a ping."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    broker_url(redis_url)
    started: list[subprocess.Popen] = []

    def start(queues: str | None = None) -> str:
        """A worker consuming `queues` (comma-separated; default: every queue of CELERY_TASK_QUEUES)."""
        hostname = f"health{len(started)}@test"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": redis_url,
            "SCFM_DATA_DIR": str(tmp_path),
        }
        command = [sys.executable, "-m", "celery", "-A", "scfm", "--quiet", "worker", "--pool", "solo"]
        command += ["--hostname", hostname, "--without-gossip", "--without-mingle"]
        command += ["--queues", queues] if queues else []
        log = tmp_path / f"{hostname}.log"
        with open(log, "w") as stderr:
            started.append(
                subprocess.Popen(
                    [*command, "--loglevel", "WARNING"], cwd=ROOT, env=env, stdout=stderr, stderr=subprocess.STDOUT
                )
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with app.connection_for_read() as connection:
                if app.control.ping(destination=[hostname], timeout=0.5, connection=connection):
                    return hostname
        raise AssertionError(f"worker {hostname} never answered: {log.read_text()}")

    yield start
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    redis.Redis.from_url(redis_url).flushdb()


def beat(name: str, seconds_ago: float) -> None:
    Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now() - datetime.timedelta(seconds=seconds_ago)}
    )


# -- /health/live ---------------------------------------------------------------------------------------------------
def test_live_answers_200_without_checking_anything_when_the_broker_is_down(anonymous, broker_url, db):
    broker_url(UNREACHABLE_BROKER)
    response = anonymous.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {}}
    assert "no-cache" in response["Cache-Control"]


# -- /health/ready --------------------------------------------------------------------------------------------------
def test_ready_answers_200_when_database_broker_and_migrations_are_ok_even_with_no_worker(
    anonymous, transactional_db, quick_worker_timeout
):
    response = anonymous.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True}, "broker": {"ok": True}, "migrations": {"ok": True}},
    }


def test_ready_answers_503_naming_the_broker_when_the_broker_is_unreachable(anonymous, broker_url, transactional_db):
    broker_url(UNREACHABLE_BROKER)
    response = anonymous.get("/health/ready", HTTP_ACCEPT="text/html")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"] == {"ok": True}
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]


def test_migrations_check_fails_when_a_migration_on_disk_is_not_applied(transactional_db):
    from django.db.migrations.recorder import MigrationRecorder

    from scfm.health import Migrations

    recorder = MigrationRecorder.Migration.objects
    row = recorder.get(app="scfm", name="0001_initial")
    row.delete()
    try:
        with pytest.raises(Exception, match=r"1 migration\(s\) not applied: scfm.0001_initial"):
            Migrations().run()
    finally:
        recorder.create(app=row.app, name=row.name, applied=row.applied)


# -- /health --------------------------------------------------------------------------------------------------------
def test_health_answers_200_when_a_worker_consumes_every_queue_and_the_tick_is_recent(
    anonymous, worker, transactional_db
):
    worker()
    beat(SCHEDULER_TICK_HEARTBEAT, seconds_ago=1)
    response = anonymous.get("/health")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"ok": True},
            "broker": {"ok": True},
            "migrations": {"ok": True},
            "workers": {"ok": True},
            "scheduler": {"ok": True},
        },
    }


def test_health_answers_503_naming_the_queue_no_worker_consumes(
    anonymous, worker, transactional_db, quick_worker_timeout
):
    worker(queues="celery")
    beat(SCHEDULER_TICK_HEARTBEAT, seconds_ago=1)
    response = anonymous.get("/health")
    assert response.status_code == 503
    missing = sorted({queue.name for queue in app.conf.task_queues} - {"celery"})
    assert missing
    assert response.json()["checks"]["workers"] == {
        "ok": False,
        "error": f"no worker consumes the queue(s): {', '.join(missing)}",
    }


def test_health_answers_503_when_no_worker_answers_while_ready_stays_200(
    anonymous, redis_url, broker_url, transactional_db, quick_worker_timeout
):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    broker_url(redis_url)
    beat(SCHEDULER_TICK_HEARTBEAT, seconds_ago=1)
    response = anonymous.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == {"ok": False, "error": "no worker answered within 0.5 s"}
    assert response.json()["checks"]["scheduler"] == {"ok": True}
    assert anonymous.get("/health/ready").status_code == 200


def test_health_answers_503_when_the_last_scheduler_tick_is_older_than_three_intervals(
    anonymous, transactional_db, settings, quick_worker_timeout
):
    settings.SCFM_SCHEDULER_INTERVAL = 10
    beat(SCHEDULER_TICK_HEARTBEAT, seconds_ago=31)
    response = anonymous.get("/health")
    assert response.status_code == 503
    scheduler = response.json()["checks"]["scheduler"]
    assert scheduler["ok"] is False
    assert scheduler["error"] == "scheduler_tick: last heartbeat 31 s ago (stale after 30 s)"


def test_health_answers_503_when_the_scheduler_never_ticked(anonymous, transactional_db, quick_worker_timeout):
    response = anonymous.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["scheduler"] == {
        "ok": False,
        "error": "scheduler_tick: no heartbeat recorded yet",
    }


# -- the heartbeats -------------------------------------------------------------------------------------------------
def test_scheduler_tick_records_its_heartbeat_when_it_has_done_its_work(db):
    from phone_calls.tasks import scheduler_tick

    assert heartbeat_age(SCHEDULER_TICK_HEARTBEAT) is None
    scheduler_tick.delay()
    assert heartbeat_age(SCHEDULER_TICK_HEARTBEAT) < datetime.timedelta(seconds=5)


def test_recording_a_heartbeat_again_moves_it_forward(db):
    beat(SCHEDULER_TICK_HEARTBEAT, seconds_ago=100)
    scheduler_tick_record()
    assert Heartbeat.objects.count() == 1
    assert heartbeat_age(SCHEDULER_TICK_HEARTBEAT) < datetime.timedelta(seconds=5)


# -- container probes: python -m scfm.health worker|beat -----------------------------------------------------------
def probe(*args: str, broker: str | None = None, interval: str = "10") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url(), "SCFM_SCHEDULER_INTERVAL": interval}
    env["SCFM_HEALTH_WORKER_TIMEOUT"] = "1"
    if broker:
        env["CELERY_BROKER_URL"] = broker
    return subprocess.run(
        [sys.executable, "-m", "scfm.health", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_worker_probe_exits_0_when_its_worker_answers_and_1_for_a_worker_that_is_not_running(
    worker, redis_url, transactional_db
):
    hostname = worker()
    answered = probe("worker", hostname, broker=redis_url)
    assert (answered.returncode, answered.stdout) == (0, f"{hostname} answered\n")
    missing = probe("worker", "nobody@test", broker=redis_url)
    assert (missing.returncode, missing.stdout) == (1, "nobody@test did not answer within 1 s\n")


def test_beat_probe_exits_0_when_beat_sent_a_tick_recently_and_1_when_it_is_stale(transactional_db):
    beat(BEAT_HEARTBEAT, seconds_ago=2)
    assert probe("beat").returncode == 0
    beat(BEAT_HEARTBEAT, seconds_ago=31)
    stale = probe("beat")
    assert stale.returncode == 1
    assert re.fullmatch(r"beat last sent the scheduler tick 3\d s ago \(stale after 30 s\)\n", stale.stdout)


def test_a_real_beat_records_its_heartbeat_when_it_sends_the_scheduler_tick(
    require_postgresql, transactional_db, redis_url, tmp_path
):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": redis_url,
        "SCFM_DATA_DIR": str(tmp_path),
        "SCFM_SCHEDULER_INTERVAL": "1",
    }
    command = [sys.executable, "-m", "celery", "-A", "scfm", "--quiet", "beat", "--loglevel", "WARNING"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while heartbeat_age(BEAT_HEARTBEAT) is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=20)
        redis.Redis.from_url(redis_url).flushdb()
    assert heartbeat_age(BEAT_HEARTBEAT) < datetime.timedelta(seconds=60)
    assert probe("beat", interval="20").returncode == 0
