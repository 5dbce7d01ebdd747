"""kill -9 of a real Celery worker in the middle of a batch (PostgreSQL + Redis + the fake provider): some of the
batch's requests reached the provider, some were still on the wire, none of the answers was recorded. Afterwards
nobody is silently left uncalled and nobody is dialled twice (issue 13): the scheduler's lookup (unrecorded.py)
records the calls the provider created and puts the others back in line, and the dispatcher dials those once."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from callouts.counters import callout_counts, callout_counts_recount, counts_from_rows
from phone_calls import dispatch, unrecorded
from phone_calls.models import PhoneCall
from tests.factories import AccountFactory
from tests.fakes.fake_twilio import FakeTwilio
from tests.phone_calls.test_dispatch_concurrency import populate

ROOT = Path(__file__).resolve().parents[2]
CALLS = 40


def _hung(fake) -> int:
    with fake._lock:
        return sum(1 for request in fake.requests if request.status == -1)


def test_a_worker_killed_mid_batch_leaves_nobody_uncalled_and_nobody_dialled_twice(
    require_postgresql, transactional_db, redis_url, database_url
):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    fake = FakeTwilio(somleng=True, hang_seconds=120).start()
    processes: list[subprocess.Popen] = []
    try:
        account = AccountFactory(
            platform_provider_name="somleng",
            somleng_account_sid=fake.account_sid,
            somleng_auth_token=fake.auth_token,
            somleng_api_base_url=fake.base_url,
            settings={"from_phone_number": "1234", "phone_call_queue_limit": 200, "max_calls_per_second": 0},
        )
        populate(account, CALLS)
        calls = list(PhoneCall.objects.filter(account=account).order_by("pk"))
        callout_counts_recount(callout_ids=[calls[0].callout_id], lock=False)  # populate() writes rows directly
        for call in calls[::4]:  # a quarter of the requests get no answer: the batch is still sending them
            fake.fail_to(call.msisdn, "hang")
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": redis_url,
            "SCFM_SCHEDULER_INTERVAL": "1",
            "SCFM_PUBLIC_URL": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
            "SCFM_DATA_DIR": tempfile.mkdtemp(prefix="scfm-crash-"),
        }
        celery = [sys.executable, "-m", "celery", "-A", "scfm"]
        for args in (["worker", "--concurrency", "1", "--loglevel", "WARNING"], ["beat", "--loglevel", "WARNING"]):
            processes.append(
                subprocess.Popen([*celery, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True)
            )
        hung = CALLS // 4
        deadline = time.monotonic() + 120
        while len(fake.create_requests()) < CALLS - hung or _hung(fake) < hung:
            assert time.monotonic() < deadline, "the batch never got under way"
            assert all(process.poll() is None for process in processes), "the worker or beat died"
            time.sleep(0.05)
        for process in processes:  # kill -9, the pool child with its parent
            os.killpg(process.pid, signal.SIGKILL)
        for process in processes:
            process.wait(timeout=10)

        # the batch was killed before it recorded anything: every call stamped, none answered
        stamped = PhoneCall.objects.filter(account=account, status="queued", dispatched_at__isnull=False)
        assert stamped.count() == CALLS
        assert not PhoneCall.objects.filter(account=account, remote_call_id__isnull=False).exists()

        # minutes later the scheduler asks the provider (inline here); the provider answers normally again
        fake.errors_by_to.clear()
        later = timezone.now() + unrecorded.UNRECORDED_AFTER + timedelta(seconds=5)
        assert unrecorded.phone_calls_unrecorded_enqueue(now=later) == CALLS
        statuses = sorted(PhoneCall.objects.filter(account=account).values_list("status", flat=True))
        assert statuses == ["created"] * hung + ["remotely_queued"] * (CALLS - hung)
        assert len(fake.create_requests()) == CALLS - hung  # the lookup itself dialled nobody

        dispatch.account_calls_dispatch(account_id=account.pk, hold_seconds=0)
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        fake.stop()

    dials = fake.dials_by_phone_call_id()
    assert sorted(dials) == sorted(str(call.pk) for call in calls)
    assert set(dials.values()) == {1}
    assert set(PhoneCall.objects.filter(account=account).values_list("status", flat=True)) == {"remotely_queued"}
    callout_id = calls[0].callout_id
    recounted = counts_from_rows([callout_id])[callout_id]
    assert {k: v for k, v in callout_counts(callout_id).items() if k in recounted} == recounted
