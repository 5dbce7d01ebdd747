"""A callback whose duration is out of any sane range is stored with a clamped duration, never a 500."""

import pytest

from callouts.models import Callout, CalloutParticipation
from phone_calls.lifecycle import MAX_DURATION_SECONDS, seconds
from phone_calls.models import PhoneCall
from phone_calls.remote_events import remote_phone_call_event_handle
from phone_calls.services import phone_call_create_for_participation
from tests.factories import AccountFactory, ContactFactory

URL = "http://testserver/twilio_webhooks/phone_call_events"


@pytest.fixture
def outbound_call(db):
    account = AccountFactory(twilio_account_sid="AC123", twilio_auth_token="secret")
    contact = ContactFactory(account=account)
    callout = Callout.objects.create(account=account, call_flow_logic="CallFlowLogic::HelloWorld")
    participation = CalloutParticipation.objects.create(
        callout=callout, contact=contact, msisdn=contact.msisdn, call_flow_logic=callout.call_flow_logic
    )
    call = phone_call_create_for_participation(participation=participation)
    PhoneCall.objects.filter(pk=call.pk).update(status="remotely_queued", remote_call_id="CA1")
    return call


@pytest.mark.parametrize(("value", "expected"), [("1e400", 0), ("99999999999", MAX_DURATION_SECONDS), ("17", 17)])
def test_seconds_is_a_32_bit_count_when_the_duration_is_huge(value, expected):
    assert seconds(value) == expected


@pytest.mark.parametrize("duration", ["1e400", "99999999999"])
def test_status_callback_is_recorded_when_the_duration_is_huge(outbound_call, duration):
    params = {"CallSid": "CA1", "AccountSid": "AC123", "CallStatus": "completed", "CallDuration": duration}
    event, _twiml = remote_phone_call_event_handle(account=outbound_call.account, params=params, url=URL)
    outbound_call.refresh_from_db()
    assert outbound_call.status == "completed"
    assert event.call_duration == outbound_call.duration
