from datetime import timedelta

import pytest
from django.utils import timezone

from callouts.models import Callout, CalloutParticipation
from phone_calls.lifecycle import phone_call_record_remote_status
from phone_calls.models import PhoneCall
from phone_calls.services import phone_call_create_for_participation
from phone_calls.statuses import status_for_remote_status
from tests.factories import AccountFactory, ContactFactory


@pytest.fixture
def participation(db):
    account = AccountFactory()
    contact = ContactFactory(account=account)
    callout = Callout.objects.create(account=account, call_flow_logic="CallFlowLogic::HelloWorld")
    return CalloutParticipation.objects.create(
        callout=callout, contact=contact, msisdn=contact.msisdn, call_flow_logic=callout.call_flow_logic
    )


def remotely_queued_call(participation) -> PhoneCall:
    call = phone_call_create_for_participation(participation=participation)
    PhoneCall.objects.filter(pk=call.pk).update(status="remotely_queued", remote_call_id=f"CA{call.pk}")
    return call


@pytest.mark.parametrize(
    ("current", "remote", "expected"),
    [
        ("remotely_queued", "ringing", "in_progress"),
        ("remotely_queued", "completed", "completed"),
        ("in_progress", "ringing", "in_progress"),
        ("completed", "ringing", "completed"),
        ("completed", "busy", "completed"),
        ("busy", "completed", "busy"),
        ("in_progress", "no-answer", "not_answered"),
        ("expired", "completed", "completed"),
        ("queued", "in-progress", "in_progress"),
        ("remotely_queued", "queued", "remotely_queued"),
        ("remotely_queued", "bogus", "remotely_queued"),
    ],
)
def test_status_moves_forward_only(current, remote, expected):
    assert status_for_remote_status(current, remote, timezone.now(), timezone.now()) == expected


def test_queued_for_an_hour_at_the_provider_expires():
    long_ago = timezone.now() - timedelta(hours=2)
    assert status_for_remote_status("remotely_queued", "queued", long_ago, timezone.now()) == "expired"


def test_completed_marks_the_participation_answered_and_keeps_the_duration(participation):
    call = remotely_queued_call(participation)
    phone_call_record_remote_status(phone_call_id=call.pk, remote_status="completed", duration="42")
    phone_call_record_remote_status(phone_call_id=call.pk, remote_status="in-progress", duration="0")
    call.refresh_from_db()
    participation.refresh_from_db()
    assert (call.status, call.duration, call.remote_status) == ("completed", 42, "completed")
    assert participation.answered is True
    assert participation.phone_calls_count == 1


def test_busy_call_is_retried_after_the_backoff(participation):
    call = remotely_queued_call(participation)
    phone_call_record_remote_status(phone_call_id=call.pk, remote_status="busy")
    participation.refresh_from_db()
    retry = participation.phone_calls.exclude(pk=call.pk).get()
    assert retry.status == "created"
    assert retry.queue_after > timezone.now() + timedelta(minutes=14)
    assert participation.phone_calls_count == 2


def test_retries_stop_at_the_accounts_maximum(participation):
    call = remotely_queued_call(participation)
    for _ in range(5):
        PhoneCall.objects.filter(pk=call.pk).update(status="remotely_queued", remote_call_id=f"CA{call.pk}")
        phone_call_record_remote_status(phone_call_id=call.pk, remote_status="no-answer")
        call = participation.phone_calls.filter(status="created").first()
        if call is None:
            break
    participation.refresh_from_db()
    assert participation.phone_calls_count == 3
    assert not participation.phone_calls.filter(status="created").exists()
