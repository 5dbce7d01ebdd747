"""The laptop-mode broker (scfm/broker.py): unreadable message files are quarantined, not fatal, and a dead
consumer's messages are delivered again."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Connection, Exchange, Queue


def queue_for(root: Path) -> Queue:
    """A queue named after the test's folder: kombu remembers declared bindings process-wide, per name."""
    name = root.name.replace(".", "-")
    return Queue(name, Exchange(name, "direct"), routing_key=name)


def options(root: Path, polling_interval: float = 0.01) -> dict:
    for sub in ("queue", "control", "processed"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(root / "queue"),
        "data_folder_out": str(root / "queue"),
        "control_folder": str(root / "control"),
        "processed_folder": str(root / "processed"),
        "polling_interval": polling_interval,
    }


def connect(root: Path, polling_interval: float = 0.01) -> Connection:
    return Connection(
        "filesystem://", transport="scfm.broker:Transport", transport_options=options(root, polling_interval)
    )


def publish(root: Path, *bodies) -> None:
    with connect(root) as conn:
        producer, queue = conn.Producer(), queue_for(root)
        for body in bodies:
            producer.publish(body, exchange=queue.exchange, routing_key=queue.name, declare=[queue], serializer="json")


def consume(root: Path, count: int, *, ack: bool = True, timeout: float = 5) -> list:
    received = []

    def on_message(body, message):
        received.append(body)
        if ack:
            message.ack()

    with connect(root) as conn, conn.Consumer(queue_for(root), callbacks=[on_message], prefetch_count=10):
        deadline = time.monotonic() + timeout
        while len(received) < count and time.monotonic() < deadline:
            try:
                conn.drain_events(timeout=0.2)
            except TimeoutError:
                pass
    return received


def test_consumer_quarantines_empty_and_truncated_files_and_goes_on(tmp_path):
    publish(tmp_path, {"n": 1}, {"n": 2}, {"n": 3})
    files = sorted((tmp_path / "queue").glob("*.msg"))
    files[0].write_bytes(b"")
    files[1].write_bytes(files[1].read_bytes()[:40])

    received = consume(tmp_path, 1)

    assert received == [{"n": 3}]
    assert sorted(path.name for path in (tmp_path / "corrupt").iterdir()) == [files[0].name, files[1].name]
    assert not list((tmp_path / "queue").glob("*.msg"))


def test_acknowledged_messages_leave_no_file_behind(tmp_path):
    publish(tmp_path, {"n": 1}, {"n": 2})

    assert consume(tmp_path, 2) == [{"n": 1}, {"n": 2}]
    assert not list(tmp_path.glob("**/*.msg"))


def test_messages_of_a_consumer_killed_before_acknowledging_are_delivered_again(tmp_path):
    publish(tmp_path, {"n": 1}, {"n": 2})
    # a consumer in another process takes both messages and dies before acknowledging (os._exit: no shutdown, no
    # restore, as with kill -9)
    script = (
        "import os, sys; sys.path.insert(0, sys.argv[2]); from pathlib import Path; "
        "from tests.ops.test_broker import connect, queue_for; root = Path(sys.argv[1]); got = []; "
        "conn = connect(root); "
        "consumer = conn.Consumer(queue_for(root), callbacks=[lambda body, m: got.append(body)], prefetch_count=10); "
        "consumer.consume(); "
        "[conn.drain_events(timeout=5) for _ in range(2)]; "
        "os._exit(0 if len(got) == 2 else 3)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "scfm.settings"}
    dead = subprocess.run([sys.executable, "-c", script, str(tmp_path), str(settings.BASE_DIR)], env=env, timeout=30)
    assert dead.returncode == 0
    assert not list((tmp_path / "queue").glob("*.msg"))

    assert consume(tmp_path, 2) == [{"n": 1}, {"n": 2}]


@pytest.mark.parametrize("content", [b"", b'{"body": "eyJ'])
def test_a_real_worker_survives_an_unreadable_message_file(tmp_path, content):
    """The symptom of issue 11: one empty or truncated file in the queue folder killed the worker."""
    from celery import Celery

    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(SCFM_DATA_DIR=str(tmp_path), CELERY_TASK_ALWAYS_EAGER="false")
    queue = tmp_path / "broker" / "queue"
    queue.mkdir(parents=True)
    (queue / f"{0:020d}_broken.celery.msg").write_bytes(content)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "scfm", "worker", "--pool=solo", "--loglevel=INFO"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "worker.log", "w"),  # noqa: SIM115
    )
    try:
        sender = Celery("sender", broker="filesystem://", set_as_current=False)
        sender.conf.broker_transport = "scfm.broker:Transport"
        sender.conf.broker_transport_options = options(tmp_path / "broker")
        sender.send_task("contacts.tasks.contact_imports_resume_stalled")
        deadline = time.monotonic() + 30
        while "contact_imports_resume_stalled" not in (log := (tmp_path / "worker.log").read_text()):
            assert worker.poll() is None, log
            assert time.monotonic() < deadline, log
            time.sleep(0.2)
        assert worker.poll() is None
        assert (tmp_path / "broker" / "corrupt" / f"{0:020d}_broken.celery.msg").exists()
    finally:
        worker.kill()
        worker.wait(timeout=10)


def test_two_consumers_in_one_process_share_its_unacked_folder(tmp_path):
    """A Celery worker opens several channels; the second one must not wait forever for the first one's lock."""
    publish(tmp_path, {"n": 1}, {"n": 2})

    with connect(tmp_path) as first, connect(tmp_path) as second:
        assert first.default_channel.basic_get(queue_for(tmp_path).name) is not None
        assert second.default_channel.basic_get(queue_for(tmp_path).name) is not None


# The consumer loop's waits (Transport.drain_events). Family: a consumer whose prefetch is full (Celery's prefork
# pool, prefetch 1 x concurrency, after nearly every task) and an empty queue that a task's follow-up message
# reaches a moment later; both must be seen at once, not after kombu's `polling_interval` (here 2 s, so a sleep
# shows). An idle consumer still sleeps `polling_interval` between looks.
def test_a_consumer_with_a_full_prefetch_takes_the_next_message_as_soon_as_one_is_acknowledged(tmp_path):
    publish(tmp_path, {"n": 1}, {"n": 2})
    received, took = [], []

    def on_message(body, message):
        received.append(body)
        if body == {"n": 1}:  # acknowledged a moment later by another thread, as Celery's result handler does
            threading.Timer(0.2, message.ack).start()

    with connect(tmp_path, polling_interval=2.0) as conn:
        with conn.Consumer(queue_for(tmp_path), callbacks=[on_message], prefetch_count=1):
            conn.drain_events(timeout=5)
            began = time.monotonic()
            conn.drain_events(timeout=5)
            took.append(time.monotonic() - began)

    assert received == [{"n": 1}, {"n": 2}]
    assert 0.15 < took[0] < 1.0


def test_a_busy_consumer_sees_a_message_published_just_after_the_queue_ran_empty(tmp_path):
    publish(tmp_path, {"n": 1})
    received = []
    with connect(tmp_path, polling_interval=2.0) as conn:
        with conn.Consumer(queue_for(tmp_path), callbacks=[lambda body, m: received.append(body) or m.ack()]):
            conn.drain_events(timeout=5)
            threading.Timer(0.2, publish, (tmp_path, {"n": 2})).start()
            began = time.monotonic()
            conn.drain_events(timeout=5)
            took = time.monotonic() - began

    assert received == [{"n": 1}, {"n": 2}]
    assert took < 1.0


def test_an_idle_consumer_waits_the_polling_interval_between_looks(tmp_path, monkeypatch):
    from scfm import broker

    monkeypatch.setattr(broker, "BUSY_FOR_SECONDS", 0.0)
    looks = []
    original = broker.Channel._get
    monkeypatch.setattr(broker.Channel, "_get", lambda self, queue: looks.append(queue) or original(self, queue))
    with connect(tmp_path, polling_interval=0.25) as conn:
        with conn.Consumer(queue_for(tmp_path), callbacks=[]):
            with pytest.raises(TimeoutError):
                conn.drain_events(timeout=1.0)

    assert 2 <= len(looks) <= 6
