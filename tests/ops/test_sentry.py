"""Optional Sentry: off without SENTRY_DSN; with it, the web and the workers report errors (Django and Celery
integrations) to the DSN's host. A fake Sentry on 127.0.0.1 receives the envelope; nothing else is contacted."""

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_sentry():
    """An HTTP server that records every envelope POSTed to it: (path, decoded body)."""
    received: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append((self.path, body.decode("utf-8", "replace")))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.received = received
    server.dsn = f"http://public@127.0.0.1:{server.server_address[1]}/42"
    yield server
    server.shutdown()
    server.server_close()


def run_python(script: str, tmp_path, **env_extra) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "scfm.settings", "SCFM_DATA_DIR": str(tmp_path), **env_extra}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )


def test_sentry_is_off_when_no_dsn_is_set():
    import sentry_sdk

    assert not sentry_sdk.get_client().is_active()


def test_an_error_is_reported_to_sentry_with_django_and_celery_integrations_when_the_dsn_is_set(fake_sentry, tmp_path):
    script = (
        "import django, logging, json, sentry_sdk; django.setup(); "
        "print(json.dumps(sorted(sentry_sdk.get_client().integrations))); "
        "logging.getLogger('scfm.test').error('boom from a worker'); "
        "sentry_sdk.flush(timeout=10)"
    )
    done = run_python(script, tmp_path, SENTRY_DSN=fake_sentry.dsn, SENTRY_ENVIRONMENT="staging")
    integrations = json.loads(done.stdout.splitlines()[-1])
    assert {"django", "celery", "logging"} <= set(integrations)
    envelopes = [body for path, body in fake_sentry.received if path == "/api/42/envelope/"]
    assert len(envelopes) == 1
    assert "boom from a worker" in envelopes[0]
    assert '"environment":"staging"' in envelopes[0].replace(" ", "")
