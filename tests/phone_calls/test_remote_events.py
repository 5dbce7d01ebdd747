import pytest

from callouts.models import Callout, CalloutParticipation
from contacts.models import Contact
from phone_calls.models import PhoneCall, RemotePhoneCallEvent
from phone_calls.remote_events import RemoteEventInvalid, remote_phone_call_event_handle
from phone_calls.services import phone_call_create_for_participation
from tests.factories import AccountFactory, ContactFactory

URL = "http://testserver/twilio_webhooks/phone_call_events"


@pytest.fixture
def outbound_call(db):
    account = AccountFactory(twilio_account_sid="AC123", twilio_auth_token="secret")
    contact = ContactFactory(account=account)
    callout = Callout.objects.create(
        account=account, call_flow_logic="CallFlowLogic::PlayMessage", audio_url="https://example.com/a.mp3"
    )
    participation = CalloutParticipation.objects.create(
        callout=callout, contact=contact, msisdn=contact.msisdn, call_flow_logic=callout.call_flow_logic
    )
    call = phone_call_create_for_participation(participation=participation)
    PhoneCall.objects.filter(pk=call.pk).update(status="remotely_queued")
    return call


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
