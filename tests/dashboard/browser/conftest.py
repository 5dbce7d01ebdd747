"""Playwright (Python) driving Debian's Chromium against pytest-django's live_server.

Never `playwright install`: the browser is the system's /usr/bin/chromium (apt-get install chromium). Without it the
browser tests are skipped with the reason, unless SCFM_REQUIRE_BROWSER=1 (set by .ci/run), which makes it a failure.
The flags keep Chromium off the network it would otherwise call home on (closed networks, and the suite's network
guard).
"""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SCFM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _browser_missing_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright; never `playwright install`)"
    return None


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for one test module.

    Module-scoped, not session-scoped: Playwright's sync API keeps an event loop running in this thread while it is
    open, and Django refuses ORM calls from such a thread unless DJANGO_ALLOW_ASYNC_UNSAFE is set (the tests arrange
    data between browser steps, never inside a coroutine), while asgiref's async_to_sync refuses to run at all. Both
    last only as long as the module's browser, so the rest of the suite runs as without it.
    """
    reason = _browser_missing_reason()
    if reason:
        if os.environ.get("SCFM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"SCFM_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context and page; `page.base_url` is the live server's URL."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def sign_in(page):
    """Signs `user` in through the login page (password from tests/factories.UserFactory unless given)."""

    def go(user, password: str = "secret123"):
        page.goto("/dashboard/login")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/dashboard/")
        return page

    return go


@pytest.fixture
def celery_worker(redis_url, database_url, settings):
    """A real Celery worker with its embedded beat (scheduler ticks every second), on the test Redis and the test
    database, consuming every queue; the in-process app (the live server's enqueues) sends to the same Redis.
    Tasks no longer run inline for the test. Stopped (and the Redis db flushed) afterwards."""
    import subprocess
    import sys
    import tempfile
    import time

    import redis

    from scfm.celery import app

    redis.Redis.from_url(redis_url).flushdb()
    keys = ("broker_url", "broker_read_url", "broker_write_url", "broker_transport", "broker_transport_options")
    previous = {key: app.conf.get(key) for key in keys}
    app.conf.update(
        {key: redis_url for key in keys[:3]} | {"broker_transport": None, "broker_transport_options": {}},
    )
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    workdir = Path(tempfile.mkdtemp(prefix="scfm-worker-"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # the uploads (CSV imports) the live server stores must be readable by the worker: same data folder
        "SCFM_DATA_DIR": str(settings.DATA_DIR),
        "SCFM_SCHEDULER_INTERVAL": "1",
        "SCFM_COUNTS_SQUASH_INTERVAL": "2",
    }
    log = workdir / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "scfm", "worker", "--beat", "--pool", "solo"]
    command += ["--queues", "celery,polling,scheduler", "--hostname", "dashboard@test", "--loglevel", "WARNING"]
    command += ["--without-gossip", "--without-mingle", "--schedule", str(workdir / "beat")]
    with open(log, "w") as output:
        worker = subprocess.Popen(
            command, cwd=Path(__file__).resolve().parents[3], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with app.connection_for_read() as connection:
            if app.control.ping(destination=["dashboard@test"], timeout=0.5, connection=connection):
                break
        if worker.poll() is not None:
            raise AssertionError(f"the worker exited: {log.read_text()}")
    else:
        worker.kill()
        raise AssertionError(f"the worker never answered: {log.read_text()}")
    worker.log = log
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=5)
    app.conf.update(previous)
    app._pool = None
    app.amqp._producer_pool = None
    redis.Redis.from_url(redis_url).flushdb()
