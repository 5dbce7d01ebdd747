"""What a provider's status report does to a call: statuses move forward only, a completed call answers its
participation, failed attempts are retried within the account's settings."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from phone_calls.lifecycle import phone_call_record_remote_status
from phone_calls.models import PhoneCall
from phone_calls.services import phone_call_create_for_participation
from phone_calls.statuses import status_for_remote_status
from tests.factories import AccountFactory, CalloutParticipationFactory, PhoneCallFactory


@pytest.fixture
def participation(db):
    return CalloutParticipationFactory()


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


# --- junk in an account's free-form settings hash must not fail a status callback (and lose the update) ----------


def busy_call(settings: dict) -> PhoneCall:
    account = AccountFactory(settings={"from_phone_number": "1234", **settings})
    call = PhoneCallFactory(dialled=True, callout_participation__callout__account=account)
    return phone_call_record_remote_status(phone_call_id=call.pk, remote_status="busy")


@pytest.mark.parametrize(
    "settings",
    [
        {"max_phone_calls_for_callout_participation": "three"},
        {"retry_backoff_seconds": "soon"},
        {"retry_statuses": 5},
        {"retry_statuses": {"busy": True}},
    ],
)
def test_status_is_recorded_and_retry_scheduled_when_retry_settings_are_junk(db, settings):
    call = busy_call(settings)
    assert PhoneCall.objects.get(pk=call.pk).status == "busy"
    retry = PhoneCall.objects.exclude(pk=call.pk).get(callout_participation_id=call.callout_participation_id)
    assert retry.status == "created"


def test_no_retry_when_max_phone_calls_is_zero(db):
    call = busy_call({"max_phone_calls_for_callout_participation": 0})
    assert not PhoneCall.objects.exclude(pk=call.pk).filter(callout_participation_id=call.callout_participation_id)


def test_no_retry_is_added_beside_a_call_made_by_hand_in_a_transaction_still_open(require_postgresql, transactional_db):
    # the retry's "no call waiting" check races a call made by hand (or by a PhoneCallCreate batch): both lock the
    # participation's row first, so the retry waits for the other transaction, then sees its call and adds none
    participation = CalloutParticipationFactory()
    ended = remotely_queued_call(participation)
    inserted, release = threading.Event(), threading.Event()
    made = []

    def by_hand():
        try:
            with transaction.atomic():
                made.append(phone_call_create_for_participation(participation=participation))
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=by_hand)
    writer.start()
    assert inserted.wait(10)
    threading.Timer(0.5, release.set).start()  # the report below blocks on the row lock until then
    assert phone_call_record_remote_status(phone_call_id=ended.pk, remote_status="busy").status == "busy"
    writer.join(10)
    calls = PhoneCall.objects.filter(callout_participation=participation).order_by("pk")
    assert [(call.pk, call.status) for call in calls] == [(ended.pk, "busy"), (made[0].pk, "created")]
