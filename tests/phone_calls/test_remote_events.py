"""Handling a provider's callback (remote_phone_call_event_handle): correlation, status, inbound calls, input."""

import pytest

from contacts.models import Contact
from phone_calls.lifecycle import MAX_DURATION_SECONDS, seconds
from phone_calls.models import PhoneCall, RemotePhoneCallEvent
from phone_calls.remote_events import RemoteEventInvalid, remote_phone_call_event_handle
from tests.factories import AccountFactory, CalloutFactory, PhoneCallFactory

URL = "http://testserver/twilio_webhooks/phone_call_events"


@pytest.fixture
def outbound_call(db):
    """A dialled call of a PlayMessage callout whose CallSid we do not know yet."""
    account = AccountFactory(twilio_account_sid="AC123", twilio_auth_token="secret")
    callout = CalloutFactory(
        account=account, call_flow_logic="CallFlowLogic::PlayMessage", audio_url="https://example.com/a.mp3"
    )
    return PhoneCallFactory(dialled=True, remote_call_id=None, callout_participation__callout=callout)


def params_for(call_sid="CA1", **extra):
    return {"CallSid": call_sid, "AccountSid": "AC123", "From": "1234", "To": "+252662345678", **extra}


def test_voice_request_correlates_by_phone_call_id_and_stores_the_call_sid(outbound_call):
    event, twiml = remote_phone_call_event_handle(
        account=outbound_call.account,
        params=params_for(CallStatus="in-progress", Direction="outbound-api"),
        url=f"{URL}?phone_call_id={outbound_call.pk}",
    )
    outbound_call.refresh_from_db()
    assert outbound_call.remote_call_id == "CA1"
    assert outbound_call.status == "in_progress"
    assert event.phone_call_id == outbound_call.pk
    assert event.call_flow_logic == "CallFlowLogic::PlayMessage"
    assert "<Play>https://example.com/a.mp3</Play>" in twiml


def test_status_callback_completes_the_call_and_answers_empty_twiml(outbound_call):
    PhoneCall.objects.filter(pk=outbound_call.pk).update(remote_call_id="CA1")
    event, twiml = remote_phone_call_event_handle(
        account=outbound_call.account,
        params=params_for(CallStatus="completed", CallDuration="17", CallbackSource="call-progress-events"),
    )
    outbound_call.refresh_from_db()
    assert (outbound_call.status, outbound_call.duration) == ("completed", 17)
    assert event.call_duration == 17
    assert twiml.endswith("<Response />")
    assert outbound_call.callout_participation.answered is True


def test_inbound_call_creates_the_contact_and_an_inbound_call(db):
    account = AccountFactory(call_flow_logic="CallFlowLogic::HelloWorld")
    event, twiml = remote_phone_call_event_handle(
        account=account,
        params={
            "CallSid": "in-1",
            "AccountSid": "x",
            "From": "252662345699",
            "To": "345",
            "Direction": "inbound",
            "CallStatus": "ringing",
        },
    )
    call = event.phone_call
    assert Contact.objects.get(account=account).msisdn == "+252662345699"
    assert (call.remote_direction, call.callout_participation_id, call.msisdn) == ("inbound", None, "+252662345699")
    assert "<Say>Thanks for trying our documentation. Enjoy!</Say>" in twiml


def test_missing_call_sid_is_rejected(db):
    with pytest.raises(RemoteEventInvalid):
        remote_phone_call_event_handle(account=AccountFactory(), params={"AccountSid": "AC1"})
    assert not RemotePhoneCallEvent.objects.exists()


# --- a callback whose duration is out of any sane range is stored with a clamped duration, never a 500 ------------


@pytest.mark.parametrize(("value", "expected"), [("1e400", 0), ("99999999999", MAX_DURATION_SECONDS), ("17", 17)])
def test_seconds_is_a_32_bit_count_when_the_duration_is_huge(value, expected):
    assert seconds(value) == expected


@pytest.mark.parametrize("duration", ["1e400", "99999999999"])
def test_status_callback_is_recorded_when_the_duration_is_huge(outbound_call, duration):
    PhoneCall.objects.filter(pk=outbound_call.pk).update(remote_call_id="CA1")
    params = {"CallSid": "CA1", "AccountSid": "AC123", "CallStatus": "completed", "CallDuration": duration}
    event, _twiml = remote_phone_call_event_handle(account=outbound_call.account, params=params, url=URL)
    outbound_call.refresh_from_db()
    assert outbound_call.status == "completed"
    assert event.call_duration == outbound_call.duration
