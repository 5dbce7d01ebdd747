import os
from urllib.parse import quote, urlsplit

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Permission
from tests.factories import AccessTokenFactory, AccountFactory

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


@pytest.hookimpl(tryfirst=True)  # before pytest-socket reads --allow-hosts
def pytest_configure(config):
    if not config.option.allow_hosts and not config.option.force_enable_socket:
        config.option.allow_hosts = ",".join(network_guard_allowed_hosts())
        config.option.allow_unix_socket = True


def network_guard_allowed_hosts() -> list[str]:
    """Where a test may connect (pytest-socket's --allow-hosts): loopback, and the suite's own Redis (REDIS_URL)
    when it lives elsewhere, as under docker compose. Unix sockets are allowed too.

    Any other socket.connect() in the test process raises pytest_socket.SocketConnectBlockedError (a RuntimeError,
    so no `except OSError` retry swallows it). PostgreSQL is reached through libpq, which opens its sockets in C and
    is not guarded; workers and servers started as subprocesses are not guarded either.
    """
    redis_host = urlsplit(os.environ.get("REDIS_URL", "")).hostname
    return [*LOOPBACK_HOSTS, *([redis_host] if redis_host and redis_host not in LOOPBACK_HOSTS else [])]


@pytest.fixture
def require_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")


@pytest.fixture
def database_url(django_db_setup) -> str:
    """The test database as a postgres:// DATABASE_URL, for the workers and servers a test starts as subprocesses."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def redis_url():
    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001
        pytest.skip(f"needs Redis at {url}")
    return url


@pytest.fixture
def account(db):
    return AccountFactory()


@pytest.fixture
def other_account(db):
    return AccountFactory()


@pytest.fixture
def make_client(db):
    """An API client whose bearer token belongs to `account` and holds `permissions` (all by default)."""

    def build(account=None, permissions=None):
        token = AccessTokenFactory(
            account=account or AccountFactory(),
            permissions=list(Permission.values) if permissions is None else permissions,
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
        client.token = token
        client.account = token.account
        return client

    return build


@pytest.fixture
def client_for(make_client, account):
    return make_client(account)


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def admin_account(db):
    """A super admin account: it sees and manages every account."""
    return AccountFactory(permissions=["super_admin"])


@pytest.fixture
def admin(make_client, admin_account):
    """An API client of `admin_account`, holding every permission."""
    return make_client(admin_account)


@pytest.fixture
def super_admin_client(admin):
    """The same client as `admin` (the name older tests use)."""
    return admin


@pytest.fixture(autouse=True)
def _tasks_run_inline():
    """Tasks enqueued in tests run inline (real code, no broker) unless a test starts real workers.

    Services enqueue with transaction.on_commit: wrap the act in django_capture_on_commit_callbacks(execute=True)
    (or use transactional_db) to see their effects.
    """
    from scfm.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def fake_twilio():
    """A started fake Twilio Calls API on 127.0.0.1 (tests/fakes/fake_twilio.py); stopped after the test."""
    from tests.fakes.fake_twilio import FakeTwilio

    with FakeTwilio(hang_seconds=5) as fake:
        yield fake


@pytest.fixture
def fake_somleng():
    """The fake in Somleng mode: UUID SIDs, 422 errors with string codes."""
    from tests.fakes.fake_twilio import FakeTwilio

    with FakeTwilio(somleng=True, hang_seconds=5) as fake:
        yield fake
