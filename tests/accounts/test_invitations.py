"""Invitation links (accounts/invitations.py): one use, expiring, voided by a newer invitation."""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from accounts.invitations import invitation_token, invitation_tokens, invited_user
from accounts.services import user_invite, user_invite_new, user_password_set
from scfm.errors import DomainError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def link_in(message) -> str:
    return re.search(r"http\S+/dashboard/invitations/(\S+)", message.body).group(1)


def test_invite_emails_a_link_that_names_the_user(account, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = user_invite_new(account=account, email="new@example.com", base_url="https://scfm.example.org")

    assert mailoutbox[0].to == ["new@example.com"]
    assert "https://scfm.example.org/dashboard/invitations/" in mailoutbox[0].body
    assert invited_user(link_in(mailoutbox[0])) == user
    assert not user.has_usable_password()


def test_invitation_email_is_in_the_users_language(account, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user_invite_new(account=account, email="km@example.com", locale="km")

    assert mailoutbox[0].subject != "You have been invited to SCFM"
    assert "/dashboard/invitations/" in mailoutbox[0].body


def test_invite_refuses_an_email_already_taken(account):
    UserFactory(email="taken@example.com")
    with pytest.raises(DomainError) as caught:
        user_invite_new(account=account, email="TAKEN@example.com")
    assert caught.value.errors == {"email": ["has already been taken"]}


def test_a_link_stops_working_once_the_password_is_set(account):
    user = user_invite(user=UserFactory(account=account))
    token = invitation_token(user)

    user_password_set(user=user, password="correct horse battery")

    assert invited_user(token) is None


def test_a_newer_invitation_voids_the_older_link(account, mailoutbox):
    user = UserFactory(account=account, invitation_sent_at=timezone.now().replace(microsecond=0) - timedelta(days=1))
    first = invitation_token(user)  # the link of yesterday's invitation
    user_invite(user=user)

    assert invited_user(first) is None
    assert invited_user(link_in(mailoutbox[0])) == user


def test_a_link_expires_after_scfm_invitation_days(account, settings, mailoutbox, monkeypatch):
    settings.SCFM_INVITATION_DAYS = 7
    user = user_invite(user=UserFactory(account=account))
    token = link_in(mailoutbox[0])
    later = datetime.now()

    monkeypatch.setattr(invitation_tokens, "_now", lambda: later + timedelta(days=6, hours=23))
    assert invited_user(token) == user
    monkeypatch.setattr(invitation_tokens, "_now", lambda: later + timedelta(days=7, minutes=1))
    assert invited_user(token) is None


@pytest.mark.parametrize("junk", ["", "x", "MQ.", "MQ.abc-def", "!!.1-2", "OTk5OTk5.5-abc", "MQ.zzzzzzzzzzzzzz-1"])
def test_a_malformed_token_invites_nobody(junk):
    UserFactory()
    assert invited_user(junk) is None
