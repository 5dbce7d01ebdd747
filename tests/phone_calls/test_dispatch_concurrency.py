"""Several real Celery worker processes and two celery beat schedulers against 2,000 calls on PostgreSQL + Redis:
every call is dialled exactly once and the in-flight cap holds (the fake server records what it received)."""

import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from django.db import connection, connections

from phone_calls.lifecycle import phone_call_record_remote_status
from phone_calls.models import PhoneCall
from tests.factories import AccountFactory, CalloutFactory, ContactFactory
from tests.fakes.fake_twilio import FakeTwilio

ROOT = Path(__file__).resolve().parents[2]
CALLS_PER_ACCOUNT = int(os.environ.get("SCFM_CONCURRENCY_CALLS", 1000))
QUEUE_LIMIT = 40
IN_FLIGHT = ("queued", "remotely_queued", "in_progress")


def populate(account, count: int) -> None:
    from callouts.models import CalloutParticipation

    callout = CalloutFactory(account=account, status="running")
    contacts = ContactFactory.create_batch(count, account=account)
    participations = CalloutParticipation.objects.bulk_create(
        CalloutParticipation(
            callout=callout, contact=c, msisdn=c.msisdn, call_flow_logic=callout.call_flow_logic, phone_calls_count=1
        )
        for c in contacts
    )
    PhoneCall.objects.bulk_create(
        PhoneCall(
            account=account,
            callout=callout,
            callout_participation=p,
            contact_id=p.contact_id,
            msisdn=p.msisdn,
            call_flow_logic=p.call_flow_logic,
        )
        for p in participations
    )


def apply_finished(finished: queue.SimpleQueue) -> None:
    """Apply the calls the fake has ended as their status callbacks would (by the phone_call_id in their Url)."""
    while not finished.empty():
        call = finished.get()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(call["url"]).query)
        phone_call_record_remote_status(phone_call_id=int(query["phone_call_id"][0]), remote_status=call["status"])


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_every_call_is_dialled_once_within_the_in_flight_cap(
    require_postgresql, transactional_db, redis_url, database_url, processes
):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    finished = queue.SimpleQueue()
    fake = FakeTwilio(auto_finish=(0.1, "completed"), on_finish=finished.put).start()
    try:
        accounts = []
        for _ in range(2):
            account = AccountFactory(
                platform_provider_name="somleng",
                somleng_account_sid=f"AC{len(accounts)}{fake.account_sid[3:]}",
                somleng_auth_token=fake.auth_token,
                somleng_api_base_url=fake.base_url,
                settings={
                    "from_phone_number": "1234",
                    "phone_call_queue_limit": QUEUE_LIMIT,
                    "max_calls_per_second": 0,
                },
            )
            fake.add_account(account.somleng_account_sid, fake.auth_token)
            populate(account, CALLS_PER_ACCOUNT)
            accounts.append(account)
        total = CALLS_PER_ACCOUNT * len(accounts)

        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": redis_url,
            "SCFM_SCHEDULER_INTERVAL": "1",
            "SCFM_PUBLIC_URL": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        celery = [sys.executable, "-m", "celery", "-A", "scfm"]
        for index in range(3):  # three worker processes, two pool processes each
            processes.append(
                subprocess.Popen(
                    [*celery, "worker", "--concurrency", "2", "--loglevel", "WARNING", "-n", f"w{index}@%h"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
            )
        for _ in range(2):
            data_dir = tempfile.mkdtemp(prefix="scfm-beat-")
            processes.append(
                subprocess.Popen(
                    [*celery, "beat", "--loglevel", "WARNING"],
                    cwd=ROOT,
                    env={**env, "SCFM_DATA_DIR": data_dir},
                    stdout=subprocess.DEVNULL,
                )
            )

        peak = {"value": 0}
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                for account in accounts:
                    in_flight = PhoneCall.objects.filter(account=account, status__in=IN_FLIGHT).count()
                    peak["value"] = max(peak["value"], in_flight)
                time.sleep(0.02)
            connections.close_all()

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            done = PhoneCall.objects.filter(status="completed").count()
            if done == total:
                break
            assert all(process.poll() is None for process in processes), "a worker or scheduler died"
            apply_finished(finished)
            time.sleep(0.1)
        stop.set()
        sampler.join(timeout=5)
    finally:
        fake.stop()

    dials = fake.dials_by_phone_call_id()
    ids = {str(pk) for pk in PhoneCall.objects.values_list("pk", flat=True)}
    assert PhoneCall.objects.filter(status="completed").count() == total
    assert set(dials) == ids
    assert max(dials.values()) == 1
    assert len(fake.create_requests()) == total
    assert fake.max_live <= QUEUE_LIMIT * len(accounts)
    assert peak["value"] <= QUEUE_LIMIT
    assert connection.vendor == "postgresql"
