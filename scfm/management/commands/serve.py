import io
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the whole service in the foreground: migrations, bootstrap, HTTP API, Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, port, host, **options):
        call_command("migrate", interactive=False, verbosity=0)
        bootstrap_output = io.StringIO()
        call_command("bootstrap", stdout=bootstrap_output)  # prints the super-admin token last
        token = bootstrap_output.getvalue().splitlines()[-1]
        python = sys.executable
        concurrency = os.environ.get("SCFM_WORKER_CONCURRENCY", "2")
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "scfm.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                os.environ.get("WEB_CONCURRENCY", "2"),
                "--threads",
                "4",
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
        processes = {name: subprocess.Popen(command) for name, command in commands.items()}
        self.stdout.write(f"SCFM is running on http://{host}:{port}/api (Ctrl-C stops it)")
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
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with code {process.returncode}; stopping everything")
                    exit_code = 1
                    stopping = True
            time.sleep(0.5)
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(exit_code)
