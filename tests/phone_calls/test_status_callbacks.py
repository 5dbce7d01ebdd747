"""The status-callback fast path (phone_calls/status_callbacks.py) and the lean form and signature handling in front
of it: two statements per callback on PostgreSQL, and nothing lost or moved backwards when the call changes under
it."""

import threading
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from twilio.request_validator import RequestValidator

from phone_calls.models import PhoneCall, RemotePhoneCallEvent
from phone_calls.selectors import webhook_credentials
from phone_calls.status_callbacks import status_callback_apply
from tests.phone_calls.webhook_helpers import (
    FORM,
    TWILIO_SID,
    TWILIO_TOKEN,
    callback_params,
    outbound_call,
    provider_account,
    signed_post,
)

WEBHOOK = "/twilio_webhooks/phone_call_events"


def status_params(status: str, call_sid: str = "CA1", **extra) -> dict:
    return callback_params(call_sid=call_sid, CallbackSource="call-progress-events", CallStatus=status, **extra)


def dialled_call(account, call_sid: str = "CA1"):
    """A remotely queued call whose CallSid we know (as after the provider accepted it)."""
    return outbound_call(account, call_sid=call_sid)


def test_status_callback_on_a_known_call_takes_two_statements(db, require_postgresql, django_assert_num_queries):
    account = provider_account()
    call = dialled_call(account)
    with django_assert_num_queries(2):  # the account with the call's state; the call, event and answered flag
        response = signed_post(Client(), WEBHOOK, status_params("completed", CallDuration="21"))
    assert response.status_code == 200
    assert response.content.endswith(b"<Response />")
    call.refresh_from_db()
    assert (call.status, call.remote_status, call.duration, call.lock_version) == ("completed", "completed", 21, 1)
    assert call.callout_participation.answered is True
    event = RemotePhoneCallEvent.objects.get(phone_call=call)
    assert (event.call_duration, event.call_flow_logic, event.details["CallStatus"]) == (
        21,
        "CallFlowLogic::HelloWorld",
        "completed",
    )


def test_a_call_changed_after_it_was_read_is_read_again(db, require_postgresql):
    account = provider_account()
    call = dialled_call(account)
    stale = webhook_credentials(account_sid=TWILIO_SID, call_sid="CA1").call
    assert signed_post(Client(), WEBHOOK, status_params("completed", CallDuration="30")).status_code == 200

    event = status_callback_apply(account_id=account.pk, params=status_params("ringing"), call=stale)

    call.refresh_from_db()
    assert (call.status, call.duration, call.lock_version) == ("completed", 30, 2)
    assert event.phone_call_id == call.pk
    assert RemotePhoneCallEvent.objects.filter(phone_call=call).count() == 2


def test_a_callback_without_a_status_keeps_the_reported_one(db, require_postgresql):
    account = provider_account()
    call = dialled_call(account)
    assert signed_post(Client(), WEBHOOK, status_params("in-progress")).status_code == 200
    params = status_params("in-progress")
    del params["CallStatus"]
    assert signed_post(Client(), WEBHOOK, params).status_code == 200
    call.refresh_from_db()
    assert (call.status, call.remote_status) == ("in_progress", "in-progress")


def test_a_call_whose_flow_is_no_longer_registered_is_handled_by_the_locked_path(db):
    account = provider_account()
    call = dialled_call(account)
    PhoneCall.objects.filter(pk=call.pk).update(call_flow_logic="CallFlowLogic::Retired")
    assert signed_post(Client(), WEBHOOK, status_params("completed")).status_code == 200
    call.refresh_from_db()
    assert call.status == "completed"
    assert RemotePhoneCallEvent.objects.get(phone_call=call).call_flow_logic == "CallFlowLogic::HelloWorld"


def test_an_outcome_that_is_retried_schedules_one_retry(db):
    account = provider_account()
    call = dialled_call(account)
    for _ in range(2):  # the second is a duplicate
        assert signed_post(Client(), WEBHOOK, status_params("no-answer")).status_code == 200
    call.refresh_from_db()
    assert call.status == "not_answered"
    assert call.callout_participation.phone_calls.filter(status="created").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_callbacks_for_one_call_lose_no_update(require_postgresql):
    account = provider_account()
    call = dialled_call(account)
    callbacks = [status_params("ringing"), status_params("in-progress")] * 4 + [
        status_params("completed", CallDuration="45")
    ] * 2
    start = threading.Barrier(len(callbacks))
    statuses = []

    def post(params):
        start.wait()
        statuses.append(signed_post(Client(), WEBHOOK, params).status_code)
        connection.close()

    threads = [threading.Thread(target=post, args=(params,)) for params in callbacks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * len(callbacks)
    call.refresh_from_db()
    assert (call.status, call.duration, call.lock_version) == ("completed", 45, len(callbacks))
    assert call.callout_participation.answered is True
    assert RemotePhoneCallEvent.objects.filter(phone_call=call).count() == len(callbacks)


def test_repeated_form_fields_are_all_signed(db, settings):
    account = provider_account()
    dialled_call(account)
    pairs = [*status_params("ringing").items(), ("StirVerstat", "TN-Validation-Passed-A"), ("StirVerstat", "B")]
    body = urlencode(pairs)
    from django.http import QueryDict

    signature = RequestValidator(TWILIO_TOKEN).compute_signature(settings.SCFM_PUBLIC_URL + WEBHOOK, QueryDict(body))
    client = Client()
    assert client.post(WEBHOOK, body, content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 200
    tampered = body.replace("StirVerstat=B", "StirVerstat=C")
    assert client.post(WEBHOOK, tampered, content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 403
    assert account.pk == PhoneCall.objects.get().account_id


def test_a_signature_made_with_the_default_port_is_accepted(db, settings):
    settings.SCFM_PUBLIC_URL = "https://scfm.example.org"
    provider_account()
    params = status_params("ringing", call_sid="CA-unknown", Direction="inbound", From="+252662345600")
    with_port = RequestValidator(TWILIO_TOKEN).compute_signature("https://scfm.example.org:443" + WEBHOOK, params)
    response = Client().post(WEBHOOK, urlencode(params), content_type=FORM, HTTP_X_TWILIO_SIGNATURE=with_port)
    assert response.status_code == 200
