"""Junk in an account's free-form settings hash must not fail a status callback (and lose the update)."""

import pytest

from callouts.models import Callout, CalloutParticipation
from phone_calls.lifecycle import phone_call_record_remote_status
from phone_calls.models import PhoneCall
from phone_calls.services import phone_call_create_for_participation
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def busy_call(settings: dict) -> PhoneCall:
    account = AccountFactory(settings={"from_phone_number": "1234", **settings})
    contact = ContactFactory(account=account)
    callout = Callout.objects.create(account=account, call_flow_logic="CallFlowLogic::HelloWorld")
    participation = CalloutParticipation.objects.create(
        callout=callout, contact=contact, msisdn=contact.msisdn, call_flow_logic=callout.call_flow_logic
    )
    call = phone_call_create_for_participation(participation=participation)
    PhoneCall.objects.filter(pk=call.pk).update(status="remotely_queued", remote_call_id=f"CA{call.pk}")
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
def test_status_is_recorded_and_retry_scheduled_when_retry_settings_are_junk(settings):
    call = busy_call(settings)
    assert PhoneCall.objects.get(pk=call.pk).status == "busy"
    retry = PhoneCall.objects.exclude(pk=call.pk).get(callout_participation_id=call.callout_participation_id)
    assert retry.status == "created"


def test_no_retry_when_max_phone_calls_is_zero():
    call = busy_call({"max_phone_calls_for_callout_participation": 0})
    assert not PhoneCall.objects.exclude(pk=call.pk).filter(callout_participation_id=call.callout_participation_id)


def test_status_is_recorded_without_retry_when_a_live_call_is_inserted_concurrently(monkeypatch):
    # the live-call check passed, then another transaction (API create, PhoneCallCreate batch) inserted a live call
    monkeypatch.setattr("phone_calls.retries.ACTIVE_STATUSES", ())
    account = AccountFactory(settings={"from_phone_number": "1234"})
    contact = ContactFactory(account=account)
    callout = Callout.objects.create(account=account, call_flow_logic="CallFlowLogic::HelloWorld")
    participation = CalloutParticipation.objects.create(
        callout=callout, contact=contact, msisdn=contact.msisdn, call_flow_logic=callout.call_flow_logic
    )
    expired = phone_call_create_for_participation(participation=participation)
    PhoneCall.objects.filter(pk=expired.pk).update(status="expired", remote_call_id="CA1")
    live = phone_call_create_for_participation(participation=participation)
    assert phone_call_record_remote_status(phone_call_id=expired.pk, remote_status="busy").status == "busy"
    assert PhoneCall.objects.get(pk=expired.pk).status == "busy"
    assert list(PhoneCall.objects.filter(callout_participation=participation, status="created")) == [live]
