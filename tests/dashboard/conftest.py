"""Fixtures of the dashboard's view tests: a signed-in user of a fresh account, and another account's callout."""

import pytest
from django.test import Client

from tests.factories import AccountFactory, CalloutFactory, UserFactory

PASSWORD = "secret123"  # UserFactory's password


@pytest.fixture
def dashboard_user(db):
    """A user of a fresh account (password PASSWORD)."""
    return UserFactory(account=AccountFactory())


@pytest.fixture
def dashboard_client(dashboard_user):
    """A Django test client signed in as `dashboard_user` (a session, as a browser has)."""
    client = Client()
    client.force_login(dashboard_user)
    client.user = dashboard_user
    client.account = dashboard_user.account
    return client


@pytest.fixture
def csrf_client(dashboard_user):
    """Like `dashboard_client`, but enforcing CSRF checks as a browser's session would be."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(dashboard_user)
    client.user = dashboard_user
    return client


@pytest.fixture
def other_account_callout(db):
    """A callout of another account: every dashboard URL with its id must answer 404."""
    return CalloutFactory(account=AccountFactory())
