import xml.etree.ElementTree as ET

import pytest

from call_flow_logic.base import CallFlow
from call_flow_logic.ews_registration import EWSRegistration
from call_flow_logic.registry import flow_class_for, is_registered, registered_names
from phone_calls.models import PhoneCall
from phone_calls.remote_events import call_flow_logic_for, remote_phone_call_event_handle
from tests.phone_calls.webhook_helpers import callback_params, outbound_call, provider_account

URL = "https://scfm.example.org/twilio_webhooks/phone_call_events"


class Goodbye(CallFlow):
    """A custom flow, registered in the tests through REGISTERED_CALL_FLOW_LOGIC."""

    name = "CallFlowLogic::Goodbye"

    def twiml(self) -> str:
        response = self.response()
        response.say("Goodbye")
        return str(response)


@pytest.fixture
def custom_flows(settings):
    settings.REGISTERED_CALL_FLOW_LOGIC = [
        "tests.phone_calls.test_call_flows.Goodbye",
        "CallFlowLogic::Farewell=tests.phone_calls.test_call_flows.Goodbye",
        "CallFlowLogic::OutcomeMonitoring",
        "no.such.module.Flow",
    ]


def test_built_in_flows_are_registered():
    assert registered_names()[:3] == [
        "CallFlowLogic::HelloWorld",
        "CallFlowLogic::PlayMessage",
        "CallFlowLogic::EWSRegistration",
    ]
    assert flow_class_for("CallFlowLogic::EWSRegistration") is EWSRegistration
    assert not is_registered("CallFlowLogic::Nope")
    assert not is_registered(None)


def test_custom_flows_register_by_class_path_by_name_and_path_and_by_name(custom_flows):
    assert flow_class_for("CallFlowLogic::Goodbye") is Goodbye
    assert flow_class_for("CallFlowLogic::Farewell") is Goodbye
    assert is_registered("CallFlowLogic::OutcomeMonitoring")
    assert flow_class_for("CallFlowLogic::OutcomeMonitoring") is None
    assert not is_registered("no.such.module.Flow")


def test_unregistered_call_flow_logic_is_unprocessable(client_for, custom_flows):
    response = client_for.patch("/api/account", {"call_flow_logic": "CallFlowLogic::Nope"}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"]["call_flow_logic"] == ["is not included in the list"]
    response = client_for.patch("/api/account", {"call_flow_logic": "CallFlowLogic::Goodbye"}, format="json")
    assert response.status_code == 204


def test_custom_flow_answers_the_call(db, custom_flows):
    account = provider_account()
    call = outbound_call(account, call_flow_logic="CallFlowLogic::Farewell")
    event, twiml = remote_phone_call_event_handle(
        account=account, params=callback_params(CallStatus="in-progress"), url=f"{URL}?phone_call_id={call.pk}"
    )
    assert "<Say>Goodbye</Say>" in twiml
    assert event.call_flow_logic == "CallFlowLogic::Farewell"


def test_resolution_falls_back_from_call_to_participation_callout_and_account(db, custom_flows):
    account = provider_account(call_flow_logic="CallFlowLogic::Goodbye")
    call = outbound_call(account, call_flow_logic="CallFlowLogic::PlayMessage")
    assert call_flow_logic_for(call) == "CallFlowLogic::PlayMessage"
    PhoneCall.objects.filter(pk=call.pk).update(call_flow_logic="")
    call.refresh_from_db()
    assert call_flow_logic_for(call) == "CallFlowLogic::PlayMessage"  # the participation's
    call.callout_participation.call_flow_logic = "CallFlowLogic::OutcomeMonitoring"  # a name without a class
    call.callout.call_flow_logic = ""
    assert call_flow_logic_for(call) == "CallFlowLogic::Goodbye"  # the account's


def test_hello_world_says_and_plays(db):
    account = provider_account()
    call = outbound_call(account)
    _event, twiml = remote_phone_call_event_handle(
        account=account, params=callback_params(CallStatus="in-progress"), url=f"{URL}?phone_call_id={call.pk}"
    )
    root = ET.fromstring(twiml)
    assert [child.tag for child in root] == ["Say", "Play"]


def test_play_message_plays_the_callout_audio(db):
    account = provider_account()
    call = outbound_call(account, call_flow_logic="CallFlowLogic::PlayMessage", audio_url="https://a.example/m.mp3")
    _event, twiml = remote_phone_call_event_handle(
        account=account, params=callback_params(CallStatus="in-progress"), url=f"{URL}?phone_call_id={call.pk}"
    )
    assert ET.fromstring(twiml).find("Play").text == "https://a.example/m.mp3"


# CallFlowLogic::EWSRegistration: tests/call_flow_logic/test_ews_registration.py
