"""`manage.py serve` (make run) as a laptop user runs it: it stops within 10 s of SIGTERM and leaves nothing behind,
and it restarts a worker that was killed."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every live (not zombie) process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            table[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return table


def family(root: int) -> set[int]:
    """`root`, its descendants, and every member of their process groups."""
    table = process_table()
    found, frontier = set(), {root}
    while frontier:
        found |= frontier
        frontier = {pid for pid, (parent, _) in table.items() if parent in frontier} - found
    groups = {table[pid][1] for pid in found if pid in table}
    return found | {pid for pid, (_, group) in table.items() if group in groups and group != os.getpgrp()}


def alive(pids: set[int]) -> set[int]:
    return pids & set(process_table())


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for(predicate, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(message)


def command_of(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.fixture
def serve(tmp_path):
    """A `manage.py serve` on a free port, SQLite and the file-system broker in a temporary SCFM_DATA_DIR."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    env.update(SCFM_DATA_DIR=str(tmp_path), WEB_CONCURRENCY="2", SCFM_WORKER_CONCURRENCY="2")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=open(tmp_path / "serve.out", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    process.port = port
    process.log = tmp_path / "serve.out"
    yield process
    for pid in alive(family(process.pid)):
        os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def worker_of(serve) -> int | None:
    pids = [pid for pid in family(serve.pid) if " worker " in command_of(pid) and "celery" in command_of(pid)]
    table = process_table()
    leaders = [pid for pid in pids if table.get(pid, (0, 0))[0] == serve.pid]
    return leaders[0] if leaders else None


def started(serve) -> set[int]:
    """Every child is up: gunicorn master + 2 workers, Celery worker + 2 pool processes, beat."""
    wait_for(lambda: not port_is_free(serve.port), 60, f"nothing listens on {serve.port}: {serve.log.read_text()}")

    def all_up():
        pids = family(serve.pid)
        return pids if len(pids) >= 8 else None

    return wait_for(all_up, 60, "children did not start")


def test_serve_stops_every_child_within_10_seconds_when_sent_sigterm(serve):
    pids = started(serve)

    serve.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    serve.wait(timeout=10)
    wait_for(lambda: not alive(pids), 10 - (time.monotonic() - stopped_at), f"left behind: {alive(pids)}")

    assert time.monotonic() - stopped_at < 10
    assert port_is_free(serve.port)


def test_serve_restarts_the_worker_when_it_is_killed(serve):
    started(serve)
    worker = worker_of(serve)
    os.kill(worker, signal.SIGKILL)

    restarted = wait_for(lambda: (pid := worker_of(serve)) and pid != worker and pid, 20, "no new worker")

    assert serve.poll() is None
    assert restarted != worker
    assert "worker exited with code -9; restarting it" in serve.log.read_text()


def test_serve_refuses_a_port_in_use_instead_of_starting_a_second_stack(tmp_path):
    """A second `make run` on a busy port (family: the port held by another SCFM, by any other listener, on IPv4
    loopback) stops at once with a message naming the port, before migrating or starting any child."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
        env.update(SCFM_DATA_DIR=str(tmp_path))
        result = subprocess.run(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=Path(settings.BASE_DIR),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "scfm.sqlite3").exists()  # nothing was migrated
