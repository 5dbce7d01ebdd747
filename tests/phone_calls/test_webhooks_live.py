"""End to end over real HTTP: a fake phone walks the EWS registration against a live server, then the provider's
status callbacks arrive shuffled, duplicated and (on PostgreSQL) concurrently."""

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from contacts.models import Contact
from phone_calls.models import PhoneCall, RemotePhoneCallEvent
from tests.fakes.twilio_caller import FakeCaller
from tests.phone_calls.webhook_helpers import TWILIO_SID, TWILIO_TOKEN, outbound_call, provider_account

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live(live_server, settings):
    settings.SCFM_PUBLIC_URL = live_server.url
    settings.SCFM_AUDIO_BASE_URL = "https://audio.example.org"
    return live_server


def caller_for(live, call, call_sid="CA-live-1") -> FakeCaller:
    return FakeCaller(
        url=f"{live.url}/twilio_webhooks/phone_call_events?phone_call_id={call.pk}",
        account_sid=TWILIO_SID,
        auth_token=TWILIO_TOKEN,
        call_sid=call_sid,
        to=call.msisdn,
    )


def test_ews_registration_end_to_end_with_shuffled_duplicated_status_callbacks(live):
    account = provider_account()
    call = outbound_call(account, call_flow_logic="CallFlowLogic::EWSRegistration")
    caller = caller_for(live, call)

    caller.answer()  # introduction, then the <Redirect> to the language menu
    assert caller.plays() == ["https://audio.example.org/ews_registration/select_language.wav"]
    caller.press("7")  # no such language: asked again
    assert caller.plays() == ["https://audio.example.org/ews_registration/select_language.wav"]
    caller.press("1")  # Khmer
    assert caller.plays() == ["https://audio.example.org/ews_registration/select_province-khm.wav"]
    caller.press("*")  # back to the language menu
    caller.press("1")
    caller.press("1")  # Pursat
    assert caller.plays() == ["https://audio.example.org/ews_registration/15-khm.wav"]
    caller.press("")  # timeout: the same prompt again
    assert caller.plays() == ["https://audio.example.org/ews_registration/15-khm.wav"]
    caller.press("2")  # Kandieng
    assert caller.plays() == ["https://audio.example.org/ews_registration/1502-khm.wav"]
    caller.press("3")  # Kanhchor
    assert caller.plays() == ["https://audio.example.org/ews_registration/registration_successful-khm.wav"]
    assert caller.last.find("Hangup") is not None
    voice_requests = len(caller.documents)

    callbacks = [("initiated", None), ("ringing", None), ("in-progress", None), ("completed", "63")] * 3
    callbacks += [("completed", "0"), ("ringing", None)]
    random.Random(5).shuffle(callbacks)

    def post(item):
        status, duration = item
        extra = {"CallDuration": duration} if duration is not None else {}
        return caller.status(status, SequenceNumber=str(callbacks.index(item)), **extra)

    workers = 8 if connection.vendor == "postgresql" else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(post, callbacks))
    assert {status for status, _body in results} == {200}

    call.refresh_from_db()
    assert (call.status, call.remote_status, call.duration, call.remote_call_id) == (
        "completed",
        "completed",
        63,
        "CA-live-1",
    )
    assert call.callout_participation.answered is True
    assert call.callout_participation.phone_calls.count() == 1
    assert call.metadata == {
        "status": "playing_conclusion",
        "language_code": "khm",
        "province_code": "15",
        "province_name_en": "Pursat",
        "district_code": "1502",
        "district_name_en": "Kandieng",
        "commune_code": "150204",
        "commune_name_en": "Kanhchor",
    }
    assert Contact.objects.get(pk=call.contact_id).metadata == {
        "commune_ids": ["150204"],
        "language_code": "khm",
        "latest_commune_id": "150204",
        "latest_address_en": "Kanhchor, Kandieng, Pursat",
        "latest_address_km": "កញ្ជរ, កណ្ដៀង, ពោធិ៍សាត់",
    }
    events = RemotePhoneCallEvent.objects.filter(phone_call=call)
    assert events.count() == voice_requests + len(callbacks)
    assert set(events.values_list("call_flow_logic", flat=True)) == {"CallFlowLogic::EWSRegistration"}


def test_busy_then_late_callbacks_schedule_exactly_one_retry(live):
    account = provider_account()
    call = outbound_call(account)
    caller = caller_for(live, call, call_sid="CA-live-busy")
    callbacks = ["busy", "ringing", "busy", "initiated", "busy"]
    workers = 5 if connection.vendor == "postgresql" else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda status: caller.status(status, CallDuration="0"), callbacks))
    assert {status for status, _body in results} == {200}
    call.refresh_from_db()
    assert call.status == "busy"
    retries = PhoneCall.objects.filter(callout_participation_id=call.callout_participation_id).exclude(pk=call.pk)
    assert [retry.status for retry in retries] == ["created"]


def test_inbound_calls_racing_on_one_call_sid_make_one_call_and_one_contact(live):
    account = provider_account(call_flow_logic="CallFlowLogic::HelloWorld")
    caller = FakeCaller(
        url=f"{live.url}/api/remote_phone_call_events",
        account_sid=TWILIO_SID,
        auth_token=TWILIO_TOKEN,
        call_sid="CA-inbound-race",
        to="345",
        from_="+252662340001",
        direction="inbound",
    )
    workers = 6 if connection.vendor == "postgresql" else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda _: caller.status("ringing"), range(6)))
    assert {status for status, _body in results} == {200}
    assert PhoneCall.objects.filter(remote_call_id="CA-inbound-race").count() == 1
    assert Contact.objects.filter(account=account).count() == 1
    caller.answer()
    assert [child.tag for child in caller.last] == ["Say", "Play"]
