import io
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

STOP_GRACE_SECONDS = 6.0  # a warm shutdown gets this long; unfinished tasks are redelivered (scfm/broker.py)
DRAIN_SECONDS = 10.0  # what a dead child left behind may finish for this long
MAX_RESTARTS = 5  # a child that exits this often within RESTART_WINDOW_SECONDS stops `serve`
RESTART_WINDOW_SECONDS = 60.0


class Command(BaseCommand):
    help = (
        "Run the whole service in the foreground: migrations, bootstrap, HTTP API, Celery worker and beat. A child "
        "that dies is restarted; Ctrl-C or SIGTERM stops everything within 10 s."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, port, host, **options):
        _port_free_or_fail(host, port)
        call_command("migrate", interactive=False, verbosity=0)
        bootstrap_output = io.StringIO()
        call_command("bootstrap", stdout=bootstrap_output)  # prints the super-admin token last
        token = bootstrap_output.getvalue().splitlines()[-1]
        python = sys.executable
        concurrency = os.environ.get("SCFM_WORKER_CONCURRENCY", "4")
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "scfm.wsgi:application",
                "--config",
                "python:scfm.gunicorn_config",
                "--bind",
                f"{host}:{port}",
                "--workers",
                os.environ.get("WEB_CONCURRENCY", "2"),
                "--threads",
                "4",
                "--graceful-timeout",
                "5",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "scfm",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                concurrency,
                "--without-gossip",
                "--without-mingle",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "scfm",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        environments = _metrics_environments()
        processes = {name: _start(command, environments.get(name)) for name, command in commands.items()}
        self.stdout.write(f"SCFM is running on http://{host}:{port}/api/docs (Ctrl-C stops it)")
        self.stdout.write(
            f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
            f"broker: {settings.CELERY_BROKER_URL.split('://')[0]}"
        )
        self.stdout.write(f"Super-admin access token: {token}")
        self.stdout.flush()

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        restarts: dict[str, list[float]] = {name: [] for name in processes}
        draining: list[tuple[subprocess.Popen, float]] = []
        while not stopping:
            for process, deadline in [entry for entry in draining if entry[1] <= time.monotonic()]:
                _kill_group(process, signal.SIGKILL)
                draining.remove((process, deadline))
            for name, process in processes.items():
                if process.poll() is None or stopping:
                    continue
                # a worker killed by the OOM killer or by hand comes back; one that keeps dying stops everything.
                # What it left behind (pool children finishing their task: their results can no longer be reported,
                # but a dispatch in progress still enqueues its dials) gets DRAIN_SECONDS, then SIGKILL.
                draining.append((process, time.monotonic() + DRAIN_SECONDS))
                recent = [at for at in restarts[name] if time.monotonic() - at < RESTART_WINDOW_SECONDS]
                if len(recent) >= MAX_RESTARTS:
                    self.stderr.write(f"{name} exited {len(recent) + 1} times in a minute; stopping everything")
                    exit_code, stopping = 1, True
                    break
                self.stderr.write(f"{name} exited with code {process.returncode}; restarting it")
                restarts[name] = [*recent, time.monotonic()]
                processes[name] = _start(commands[name], environments.get(name))
            time.sleep(0.5)
        _stop_all([*processes.values(), *(process for process, _ in draining)])
        sys.exit(exit_code)


def _metrics_environments() -> dict[str, dict[str, str]]:
    """The web and the worker count metrics in directories of their own under SCFM_DATA_DIR/metrics (each empties
    its own as it starts); the web's /metrics adds the worker's (SCFM_METRICS_EXTRA_DIRS), so one scrape of the web
    port sees the dials too (scfm/metrics.py)."""
    root = settings.DATA_DIR / "metrics"
    web, worker = str(root / "web"), str(root / "worker")
    return {
        "web": {**os.environ, "PROMETHEUS_MULTIPROC_DIR": web, "SCFM_METRICS_EXTRA_DIRS": worker},
        "worker": {**os.environ, "PROMETHEUS_MULTIPROC_DIR": worker},
    }


def _start(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Each child leads a process group of its own, so stopping it stops what it forked (gunicorn and Celery pool
    workers), and Ctrl-C in the terminal reaches only `serve`, which stops the children in order."""
    return subprocess.Popen(command, start_new_session=True, env=env)


def _kill_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_all(processes) -> None:
    """SIGTERM to every child's process group; SIGKILL to any group still alive STOP_GRACE_SECONDS later, so `serve`
    is gone within 10 s of Ctrl-C or SIGTERM and leaves no process behind (nor a port held)."""
    processes = list(processes)
    for process in processes:
        _kill_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            pass
    for process in processes:
        _kill_group(process, signal.SIGKILL)  # stragglers of the group, even when its leader already exited
    for process in processes:
        try:
            process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass


def _port_free_or_fail(host: str, port: int) -> None:
    """Refuse to start (CommandError) when another process listens on host:port, e.g. a second `make run`: gunicorn
    would otherwise retry the bind forever while a second worker and scheduler share the first one's data dir."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"{host}:{port} is already in use ({exc.strerror}): is SCFM already running? "
                "Stop it, or set PORT to another port."
            ) from None
