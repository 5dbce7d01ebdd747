"""Kill -9 a real Celery worker in the middle of a population, requeue, and count: nothing missing, nothing twice."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from batch_operations.models import BatchOperation
from callouts.models import CalloutParticipation
from phone_calls.models import PhoneCall
from tests.factories import CalloutFactory

CONTACTS = 50_000
TASK = "batch_operations.tasks.run_batch_operation"


@pytest.fixture
def broker(redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    yield redis_url
    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def start_worker(broker, database_url, tmp_path):
    workers = []

    def start() -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "SCFM_POPULATION_CHUNK_SIZE": "100",
            "SCFM_DATA_DIR": str(tmp_path),
        }
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "scfm",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"worker{len(workers)}.log", "w"),  # noqa: SIM115
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
        worker.wait(timeout=10)


def send_run(broker_url: str, operation_id: int) -> None:
    from celery import Celery

    sender = Celery("sender", broker=broker_url, set_as_current=False)
    sender.send_task(TASK, args=[operation_id])
    sender.close()


def wait_for(predicate, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(message)


def bulk_contacts(account_id: int, count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contacts_contact (account_id, msisdn, metadata, created_at, updated_at) "
            "SELECT %s, '+2526' || lpad(n::text, 8, '0'), "
            "jsonb_build_object('gender', CASE WHEN n %% 2 = 0 THEN 'f' ELSE 'm' END), now(), now() "
            "FROM generate_series(1, %s) AS n",
            [account_id, count],
        )


@pytest.mark.django_db(transaction=True)
def test_population_survives_a_killed_worker(require_postgresql, broker, start_worker, make_client, monkeypatch):
    # the services' on_commit enqueue goes to the real broker, not inline
    monkeypatch.setattr("batch_operations.services._enqueue_run", lambda pk: send_run(broker, pk))
    client = make_client()
    callout = CalloutFactory(account=client.account)
    bulk_contacts(client.account.pk, CONTACTS)
    expected = CONTACTS // 2
    created = client.post(
        f"/api/callouts/{callout.pk}/batch_operations",
        {
            "type": "BatchOperation::CalloutPopulation",
            "parameters": {"contact_filter_params": {"metadata": {"gender": "f"}}},
        },
        format="json",
    )
    operation_id = created.json()["id"]
    events = f"/api/batch_operations/{operation_id}/batch_operation_events"
    first = start_worker()
    assert client.post(events, {"event": "queue"}, format="json").status_code == 201
    progress = wait_for(
        lambda: BatchOperation.objects.filter(pk=operation_id, status="running", processed_count__gte=1000).first(),
        timeout=60,
        message="the first worker never made progress",
    )
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = BatchOperation.objects.get(pk=operation_id)
    assert killed_at.status == "running"
    assert progress.processed_count <= killed_at.processed_count < expected, "killed too late to prove anything"

    requeued = client.post(events, {"event": "requeue"}, format="json")
    assert requeued.status_code == 201
    assert requeued.json()["status"] == "queued"
    start_worker()
    wait_for(
        lambda: BatchOperation.objects.filter(pk=operation_id, status="finished").exists(),
        timeout=120,
        message="the second worker never finished",
    )

    operation = BatchOperation.objects.get(pk=operation_id)
    participations = CalloutParticipation.objects.filter(callout=callout)
    assert operation.processed_count == expected
    assert participations.count() == expected
    assert participations.values("contact_id").distinct().count() == expected
    assert participations.filter(contact__metadata__gender="f").count() == expected
    assert set(participations.values_list("phone_calls_count", flat=True)) == {1}
    calls = PhoneCall.objects.filter(callout=callout)
    assert calls.count() == expected
    assert calls.values("callout_participation_id").distinct().count() == expected
    assert set(calls.values_list("status", flat=True)) == {"created"}
