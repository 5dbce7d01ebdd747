import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from contacts.models import Contact
from phone_calls.models import PhoneCall, RemotePhoneCallEvent
from tests.phone_calls.webhook_helpers import (
    FORM,
    SOMLENG_SID,
    SOMLENG_TOKEN,
    TWILIO_SID,
    callback_params,
    outbound_call,
    provider_account,
    signed_post,
)

WEBHOOK = "/twilio_webhooks/phone_call_events"
API_WEBHOOK = "/api/remote_phone_call_events"


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def account(db):
    return provider_account()


@pytest.mark.parametrize("path", [WEBHOOK, API_WEBHOOK])
def test_voice_request_is_answered_with_twiml_when_signed(client, account, path):
    call = outbound_call(account)
    response = signed_post(client, f"{path}?phone_call_id={call.pk}", callback_params(CallStatus="in-progress"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Say>Thanks for trying our documentation. Enjoy!</Say>" in response.content
    call.refresh_from_db()
    assert (call.remote_call_id, call.status) == ("CA1", "in_progress")
    event = RemotePhoneCallEvent.objects.get()
    assert event.details["CallStatus"] == "in-progress"
    assert (event.remote_call_id, event.remote_direction, event.phone_call_id) == ("CA1", "outbound-api", call.pk)


def test_somleng_callback_is_checked_with_the_somleng_token(client, account):
    call = outbound_call(account)
    params = callback_params(account_sid=SOMLENG_SID.upper(), CallStatus="completed", CallDuration="9")
    response = signed_post(client, f"{WEBHOOK}?phone_call_id={call.pk}", params, SOMLENG_TOKEN)
    assert response.status_code == 200
    call.refresh_from_db()
    assert (call.status, call.duration) == ("completed", 9)


def test_bad_signature_is_forbidden(client, account):
    response = signed_post(client, WEBHOOK, callback_params(), signature="bm90IGEgc2lnbmF0dXJl")
    assert response.status_code == 403
    assert response.content == b"Twilio Request Validation Failed."
    assert not RemotePhoneCallEvent.objects.exists()


def test_signature_with_the_wrong_token_is_forbidden(client, account):
    response = signed_post(client, WEBHOOK, callback_params(), "not-the-token")
    assert response.status_code == 403


def test_a_rotated_token_takes_effect_at_once(client, account, django_assert_max_num_queries):
    call = outbound_call(account)
    url = f"{WEBHOOK}?phone_call_id={call.pk}"
    assert signed_post(client, url, callback_params(CallStatus="ringing")).status_code == 200
    with django_assert_max_num_queries(6):  # account + call, write; or BEGIN, lock, update, event, COMMIT
        assert signed_post(client, url, callback_params(CallStatus="ringing")).status_code == 200
    account.twilio_auth_token = "rotated"
    account.save()
    assert signed_post(client, url, callback_params(CallStatus="in-progress")).status_code == 403
    assert signed_post(client, url, callback_params(CallStatus="in-progress"), "rotated").status_code == 200


def test_missing_signature_is_forbidden(client, account):
    response = client.post(WEBHOOK, "CallSid=CA1&AccountSid=" + TWILIO_SID, content_type=FORM)
    assert response.status_code == 403


def test_unknown_account_sid_is_forbidden(client, account):
    response = signed_post(client, WEBHOOK, callback_params(account_sid="AC" + "f" * 32))
    assert response.status_code == 403


def test_account_without_an_auth_token_is_forbidden(client, db):
    provider_account(twilio_auth_token=None)
    response = signed_post(client, WEBHOOK, callback_params())
    assert response.status_code == 403


def test_tampered_parameters_are_forbidden(client, account, settings):
    params = callback_params(CallStatus="busy")
    signature = RequestValidator("twilio-secret-token").compute_signature(settings.SCFM_PUBLIC_URL + WEBHOOK, params)
    response = signed_post(client, WEBHOOK, {**params, "CallStatus": "completed"}, signature=signature)
    assert response.status_code == 403


def test_signature_is_checked_against_the_public_url(client, account, settings):
    settings.SCFM_PUBLIC_URL = "https://scfm.example.org"
    params = callback_params(CallStatus="ringing", Direction="inbound", From="+252662345600")
    validator = RequestValidator("twilio-secret-token")
    internal = validator.compute_signature("http://testserver" + WEBHOOK, params)
    assert signed_post(client, WEBHOOK, params, signature=internal).status_code == 403
    assert signed_post(client, WEBHOOK, params).status_code == 200


@pytest.mark.parametrize("missing", ["CallSid", "AccountSid"])
def test_callback_without_a_required_parameter_is_a_bad_request(client, account, missing):
    params = callback_params(CallStatus="ringing")
    del params[missing]
    response = signed_post(client, WEBHOOK, params)
    assert response.status_code == 400
    assert not RemotePhoneCallEvent.objects.exists()


def test_json_body_is_a_bad_request(client, account):
    response = client.post(
        WEBHOOK,
        {"CallSid": "CA1", "AccountSid": TWILIO_SID},
        content_type="application/json",
        HTTP_X_TWILIO_SIGNATURE="x",
    )
    assert response.status_code == 400


def test_unusable_number_on_an_unknown_call_is_answered_without_a_contact(client, account):
    # the whole family of hidden and non-telephone callers: tests/phone_calls/test_callers.py
    response = signed_post(client, WEBHOOK, callback_params(Direction="inbound", From="not a number"))
    assert response.status_code == 200
    assert PhoneCall.objects.get(remote_call_id="CA1").contact_id is None


def test_call_sid_of_another_account_is_a_bad_request(client, account):
    other = provider_account(twilio_account_sid="AC" + "1" * 32, somleng_account_sid="other")
    theirs = outbound_call(other, call_sid="CA-theirs")
    response = signed_post(client, WEBHOOK, callback_params(call_sid="CA-theirs", CallStatus="completed"))
    assert response.status_code == 400
    theirs.refresh_from_db()
    assert theirs.status == "remotely_queued"


def test_get_is_not_a_webhook(client, account):
    assert client.get(WEBHOOK).status_code == 405


def test_inbound_call_creates_a_contact_and_answers_with_the_account_flow(client, db):
    account = provider_account(call_flow_logic="CallFlowLogic::PlayMessage")
    params = callback_params(call_sid="in-1", Direction="inbound", From="252662345611", To="345", CallStatus="ringing")
    response = signed_post(client, WEBHOOK, params)
    assert response.status_code == 200
    assert b"<Say>No audio URL to play. Bye Bye</Say>" in response.content
    contact = Contact.objects.get(account=account)
    call = PhoneCall.objects.get(remote_call_id="in-1")
    assert contact.msisdn == "+252662345611"
    assert (call.contact_id, call.remote_direction, call.callout_participation_id) == (contact.pk, "inbound", None)
    assert (call.status, call.call_flow_logic) == ("in_progress", "CallFlowLogic::PlayMessage")


def test_inbound_call_of_a_known_number_reuses_the_contact(client, account):
    Contact.objects.create(account=account, msisdn="+252662345611")
    params = callback_params(call_sid="in-2", Direction="inbound", From="+252 66 234 5611", CallStatus="ringing")
    assert signed_post(client, WEBHOOK, params).status_code == 200
    assert Contact.objects.filter(account=account).count() == 1


def test_status_callbacks_are_duplicate_and_order_safe(client, account):
    call = outbound_call(account)
    path = f"{WEBHOOK}?phone_call_id={call.pk}"
    for status, duration in [("completed", "42"), ("ringing", None), ("completed", "0"), ("in-progress", None)]:
        extra = {"CallbackSource": "call-progress-events", "CallStatus": status}
        if duration is not None:
            extra["CallDuration"] = duration
        response = signed_post(client, path, callback_params(**extra))
        assert response.status_code == 200
        assert response.content.endswith(b"<Response />")
    call.refresh_from_db()
    assert (call.status, call.duration, call.remote_status) == ("completed", 42, "completed")
    assert call.callout_participation.answered is True
    assert RemotePhoneCallEvent.objects.filter(phone_call=call).count() == 4


def test_busy_callback_schedules_a_retry(client, account):
    call = outbound_call(account)
    params = callback_params(CallbackSource="call-progress-events", CallStatus="busy", CallDuration="0")
    assert signed_post(client, f"{WEBHOOK}?phone_call_id={call.pk}", params).status_code == 200
    assert call.callout_participation.phone_calls.filter(status="created").count() == 1
