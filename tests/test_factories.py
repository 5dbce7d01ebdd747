"""The factory traits build the states their names promise, as the services would have left them."""

import pytest

from tests.factories import BatchOperationFactory, CalloutFactory, CalloutParticipationFactory, PhoneCallFactory

pytestmark = pytest.mark.django_db


def test_a_dialled_call_is_stamped_and_has_the_providers_call_id():
    call = PhoneCallFactory(dialled=True)
    assert (call.status, call.remote_status, call.remote_direction) == ("remotely_queued", "queued", "outbound-api")
    assert call.remote_call_id.startswith("CA") and call.dispatched_at and call.remotely_queued_at
    assert PhoneCallFactory(dialled=True).remote_call_id != call.remote_call_id
    assert (call.callout_participation.phone_calls_count, call.callout_participation.answered) == (1, False)


def test_a_completed_call_answered_its_participation():
    call = PhoneCallFactory(completed=True)
    assert (call.status, call.remote_status, call.duration) == ("completed", "completed", 42)
    assert call.remote_call_id and call.dispatched_at
    assert (call.callout_participation.phone_calls_count, call.callout_participation.answered) == (1, True)


def test_a_participation_with_an_answered_call_has_one_completed_call():
    participation = CalloutParticipationFactory(answered_call=True)
    participation.refresh_from_db()
    assert (participation.answered, participation.phone_calls_count) == (True, 1)
    assert [call.status for call in participation.phone_calls.all()] == ["completed"]


def test_a_running_callout_and_a_queued_batch_operation():
    assert CalloutFactory(running=True).status == "running"
    assert BatchOperationFactory(queued=True).status == "queued"


def test_no_trait_leaves_the_defaults():
    call = PhoneCallFactory()
    assert (call.status, call.remote_call_id, call.dispatched_at) == ("created", None, None)
    assert (call.callout_participation.phone_calls_count, call.callout.status) == (0, "initialized")
