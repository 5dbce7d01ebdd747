"""Inbound callers as they really are (issue 11, 7a).

The family of callers with no usable number: empty/blank From; the withheld words (Anonymous, Restricted, Private,
Unknown, Unavailable, Blocked, Withheld, any case, with or without a "+"); Twilio's keypad-spelled sentinels of those
words (+266696687 ...); non-telephone addresses (sip:, sips:, client:, any scheme:); other text that is no phone
number. Each is answered with the account's flow and stored with no contact, the call row keeping what was sent.
Usable numbers (E.164, national-looking with a country code, tel: URIs) still become contacts.
"""

import pytest
from django.test import Client

from contacts.models import Contact
from phone_calls.callers import WITHHELD_SENTINELS, caller_msisdn, keypad_spelling
from phone_calls.models import PhoneCall, RemotePhoneCallEvent
from tests.phone_calls.webhook_helpers import callback_params, provider_account, signed_post

WEBHOOK = "/twilio_webhooks/phone_call_events"
API_WEBHOOK = "/api/remote_phone_call_events"

NO_USABLE_NUMBER = [
    "",
    "   ",
    "anonymous",
    "Anonymous",
    "ANONYMOUS",
    "+anonymous",
    "Restricted",
    "Private",
    "Unknown",
    "Unavailable",
    "Blocked",
    "withheld",
    "+266696687",  # ANONYMOUS on a keypad
    "266696687",
    "+7378742833",  # RESTRICTED
    "7378742833",
    "+7 378 742 833",
    "+7748283",  # PRIVATE
    "+8656696",  # UNKNOWN
    "+86282452253",  # UNAVAILABLE
    "+2562533",  # BLOCKED
    "sip:alice@example.org",
    "sips:+85512345678@sip.example.org:5061",
    "SIP:bob@10.0.0.1;transport=tcp",
    "client:alice",
    "client:support-agent-7",
    "not a number",
    "12",
]


def test_sentinels_are_the_keypad_spelling_of_the_withheld_words():
    assert keypad_spelling("anonymous") == "+266696687"
    assert {"+266696687", "+7378742833", "+86282452253", "+2562533", "+8656696"} <= WITHHELD_SENTINELS


@pytest.mark.parametrize("value", NO_USABLE_NUMBER)
def test_caller_has_no_number_when_hidden_or_not_a_phone(value):
    assert caller_msisdn(value) is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("+85512345678", "+85512345678"),
        ("85512345678", "+85512345678"),
        ("+855 12 345 678", "+85512345678"),
        ("tel:+85512345678", "+85512345678"),
        ("tel:+85512345678;ext=1", "+85512345678"),
    ],
)
def test_caller_number_is_e164_when_usable(value, expected):
    assert caller_msisdn(value) == expected


@pytest.mark.parametrize("path", [WEBHOOK, API_WEBHOOK])
@pytest.mark.parametrize("caller", NO_USABLE_NUMBER)
def test_hidden_caller_is_answered_with_the_account_flow_and_stored_without_a_contact(db, path, caller):
    account = provider_account(call_flow_logic="CallFlowLogic::PlayMessage")
    params = callback_params(call_sid="in-hidden", Direction="inbound", From=caller, To="1294", CallStatus="ringing")
    response = signed_post(Client(), path, params)
    assert response.status_code == 200, response.content
    assert b"<Say>No audio URL to play. Bye Bye</Say>" in response.content
    call = PhoneCall.objects.get(remote_call_id="in-hidden")
    assert (call.contact_id, call.msisdn, call.remote_direction) == (None, caller.strip(), "inbound")
    assert (call.status, call.call_flow_logic) == ("in_progress", "CallFlowLogic::PlayMessage")
    assert RemotePhoneCallEvent.objects.get(phone_call=call).details["From"] == caller
    assert not Contact.objects.filter(account=account).exists()


def test_hidden_caller_without_a_from_parameter_is_answered(db):
    account = provider_account(call_flow_logic="CallFlowLogic::PlayMessage")
    params = callback_params(call_sid="in-nofrom", Direction="inbound", CallStatus="ringing")
    del params["From"]
    assert signed_post(Client(), WEBHOOK, params).status_code == 200
    assert PhoneCall.objects.get(remote_call_id="in-nofrom", account=account).contact_id is None


def test_hidden_callers_later_callbacks_and_status_reach_the_same_call(db):
    provider_account(call_flow_logic="CallFlowLogic::PlayMessage")
    first = callback_params(call_sid="in-anon", Direction="inbound", From="anonymous", CallStatus="ringing")
    assert signed_post(Client(), WEBHOOK, first).status_code == 200
    done = {**first, "CallStatus": "completed", "CallDuration": "12", "CallbackSource": "call-progress-events"}
    assert signed_post(Client(), WEBHOOK, done).status_code == 200
    call = PhoneCall.objects.get(remote_call_id="in-anon")
    assert (call.status, call.duration, call.contact_id) == ("completed", 12, None)


def test_very_long_sip_caller_is_kept_cut_to_the_column(db):
    provider_account()
    caller = "sip:" + "a" * 300 + "@example.org"
    params = callback_params(call_sid="in-long", Direction="inbound", From=caller, CallStatus="ringing")
    assert signed_post(Client(), WEBHOOK, params).status_code == 200
    assert PhoneCall.objects.get(remote_call_id="in-long").msisdn == caller[:255]


def test_hidden_callers_recording_is_stored_without_a_contact(db):
    provider_account()
    params = callback_params(call_sid="in-rec", Direction="inbound", From="Restricted", CallStatus="in-progress")
    assert signed_post(Client(), WEBHOOK, params).status_code == 200
    recording = callback_params(
        call_sid="in-rec", RecordingSid="RE1", RecordingUrl="https://api.twilio.com/rec/RE1", RecordingDuration="3"
    )
    response = signed_post(Client(), "/twilio_webhooks/recording_status_callbacks", recording)
    assert response.status_code == 204
    call = PhoneCall.objects.get(remote_call_id="in-rec")
    assert call.recordings.get().contact_id is None
