"""rest-api-current.txt's callouts, callout participations, batch operations, phone calls and remote phone call events
examples, replayed as its curl commands send them (a JSON document with curl's default form content type)."""

from batch_operations.models import BatchOperation
from callouts.models import Callout, CalloutParticipation
from phone_calls.models import RemotePhoneCallEvent
from tests.factories import (
    BatchOperationFactory,
    CalloutFactory,
    CalloutParticipationFactory,
    ContactFactory,
    PhoneCallFactory,
)
from tests.scfm.reference_requests import assert_created, doc_json

CALLOUT_KEYS = {"id", "status", "call_flow_logic", "metadata", "created_at", "updated_at", "account_id", "audio_url",
                "settings"}  # fmt: skip
PARTICIPATION_KEYS = {"id", "callout_id", "contact_id", "msisdn", "call_flow_logic", "metadata", "created_at",
                      "updated_at", "answered", "phone_calls_count"}  # fmt: skip
BATCH_OPERATION_KEYS = {"id", "callout_id", "parameters", "metadata", "status", "created_at", "updated_at",
                        "account_id", "type"}  # fmt: skip
PHONE_CALL_KEYS = {
    "id", "callout_participation_id", "contact_id", "status", "msisdn", "remote_call_id", "remote_status",
    "remote_direction", "remote_error_message", "metadata", "remote_response", "remote_queue_response",
    "call_flow_logic", "remotely_queued_at", "created_at", "updated_at", "duration", "lock_version", "account_id",
    "remote_status_fetch_queued_at", "callout_id",
}  # fmt: skip
EVENT_KEYS = {"id", "phone_call_id", "details", "metadata", "remote_call_id", "remote_direction", "call_flow_logic",
              "created_at", "updated_at", "call_duration"}  # fmt: skip


def test_create_a_callout(curl, account):
    body = doc_json(
        {
            "call_flow_logic": "CallFlowLogic::HelloWorld",
            "audio_url": "https://www.example.com/sample.mp3",
            "metadata": {"foo": "bar"},
            "settings": {"external_service_1": {"foo": "bar"}},
        }
    )
    callout = assert_created(curl("POST", "/api/callouts", body), "callouts", CALLOUT_KEYS)
    assert (callout["status"], callout["audio_url"], callout["account_id"]) == (
        "initialized",
        "https://www.example.com/sample.mp3",
        account.pk,
    )
    assert callout["settings"] == {"external_service_1": {"foo": "bar"}}


def test_create_a_callout_event(curl, account):
    callout = CalloutFactory(account=account)
    response = curl("POST", f"/api/callouts/{callout.pk}/callout_events", doc_json({"event": "start"}))
    assert response.status_code == 201
    assert response["Location"] == f"/api/callouts/{callout.pk}"
    assert response.json()["status"] == "running"


def test_list_update_and_delete_callouts(curl, account):
    callout = CalloutFactory(account=account, metadata={"foo": "bar"})
    CalloutFactory(account=account)
    response = curl("GET", "/api/callouts?q[metadata][foo]=bar")
    assert (response["Per-Page"], response["Total"]) == ("25", "1")
    assert set(response.json()[0]) >= CALLOUT_KEYS
    body = doc_json({"metadata": {"bar": "foo"}, "metadata_merge_mode": "replace"})
    assert curl("PATCH", f"/api/callouts/{callout.pk}", body).status_code == 204
    callout.refresh_from_db()
    assert callout.metadata == {"bar": "foo"}
    assert curl("DELETE", f"/api/callouts/{callout.pk}", "").status_code == 204
    assert not Callout.objects.filter(pk=callout.pk).exists()


def test_create_a_callout_participation(curl, account):
    callout = CalloutFactory(account=account)
    contact = ContactFactory(account=account)
    body = doc_json(
        {
            "contact_id": contact.pk,
            "msisdn": "252662345984",
            "call_flow_logic": "CallFlowLogic::HelloWorld",
            "metadata": {"foo": "bar"},
        }
    )
    response = curl("POST", f"/api/callouts/{callout.pk}/callout_participations", body)
    participation = assert_created(response, "callout_participations", PARTICIPATION_KEYS)
    assert (participation["msisdn"], participation["answered"], participation["phone_calls_count"]) == (
        "+252662345984",
        False,
        0,
    )


def test_create_a_callout_participation_with_invalid_data(curl, account):
    callout = CalloutFactory(account=account)
    response = curl("POST", f"/api/callouts/{callout.pk}/callout_participations", "")
    assert response.status_code == 422
    assert "contact_id" in response.json()["errors"] or "contact" in response.json()["errors"]


def test_delete_a_callout_participation_with_phone_calls(curl, account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    PhoneCallFactory(callout_participation=participation, status="completed")
    response = curl("DELETE", f"/api/callout_participations/{participation.pk}", "")
    assert response.status_code == 422
    assert response.json() == {"errors": {"base": ["Cannot delete record because dependent phone calls exist"]}}
    assert CalloutParticipation.objects.filter(pk=participation.pk).exists()


def test_list_and_update_callout_participations(curl, account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account), metadata={"foo": "bar"})
    response = curl("GET", "/api/callout_participations?q[metadata][foo]=bar")
    assert [item["id"] for item in response.json()] == [participation.pk]
    assert set(response.json()[0]) >= PARTICIPATION_KEYS
    other = ContactFactory(account=account)
    body = doc_json(
        {
            "contact_id": other.pk,
            "msisdn": "252662345988",
            "call_flow_logic": "CallFlowLogic::HelloWorld",
            "metadata": {"bar": "foo"},
            "metadata_merge_mode": "replace",
        }
    )
    assert curl("PATCH", f"/api/callout_participations/{participation.pk}", body).status_code == 204
    participation.refresh_from_db()
    assert (participation.msisdn, participation.metadata) == ("+252662345988", {"bar": "foo"})
    assert participation.contact_id != other.pk


def test_populate_a_callout(curl, account):
    callout = CalloutFactory(account=account)
    body = doc_json(
        {
            "callout_id": callout.pk,
            "metadata": {"foo": "bar"},
            "parameters": {
                "contact_filter_params": {
                    "metadata": {
                        "gender": "f",
                        "date_of_birth.date.gteq": "2022-01-01",
                        "date_of_birth.date.lt": "2022-02-01",
                        "deregistered_at.exists": False,
                    }
                }
            },
            "type": "BatchOperation::CalloutPopulation",
        }
    )
    operation = assert_created(curl("POST", "/api/batch_operations", body), "batch_operations", BATCH_OPERATION_KEYS)
    assert (operation["status"], operation["type"], operation["callout_id"]) == (
        "preview",
        "BatchOperation::CalloutPopulation",
        callout.pk,
    )


def test_batch_operation_event_list_update_and_delete(curl, account, django_capture_on_commit_callbacks):
    callout = CalloutFactory(account=account)
    operation = BatchOperationFactory(account=account, callout=callout)
    response = curl("GET", f"/api/batch_operations?q[callout_id]={callout.pk}")
    assert (response["Total"], set(response.json()[0]) >= BATCH_OPERATION_KEYS) == ("1", True)
    body = doc_json(
        {
            "metadata": {"foo": "bar", "bar": "foo"},
            "parameters": {"contact_filter_params": {"metadata": {"foo": "bar"}}},
            "metadata_merge_mode": "replace",
        }
    )
    assert curl("PATCH", f"/api/batch_operations/{operation.pk}", body).status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        response = curl(
            "POST", f"/api/batch_operations/{operation.pk}/batch_operation_events", doc_json({"event": "queue"})
        )
    assert response.status_code == 201
    assert response["Location"] == f"/api/batch_operations/{operation.pk}"
    other = BatchOperationFactory(account=account, callout=callout)
    assert curl("DELETE", f"/api/batch_operations/{other.pk}", "").status_code == 204
    assert not BatchOperation.objects.filter(pk=other.pk).exists()


def test_list_and_retrieve_phone_calls(curl, account):
    call = PhoneCallFactory(callout_participation=CalloutParticipationFactory(callout=CalloutFactory(account=account)),
                            metadata={"foo": "bar"})  # fmt: skip
    response = curl("GET", "/api/phone_calls?q[metadata][foo]=bar")
    assert [item["id"] for item in response.json()] == [call.pk]
    response = curl("GET", f"/api/phone_calls/{call.pk}")
    assert response["Location"] == f"/api/phone_calls/{call.pk}"
    assert set(response.json()) >= PHONE_CALL_KEYS


def test_list_retrieve_and_update_remote_phone_call_events(curl, account):
    call = PhoneCallFactory(callout_participation=CalloutParticipationFactory(callout=CalloutFactory(account=account)))
    event = RemotePhoneCallEvent.objects.create(
        phone_call=call, details={"CallSid": "CA1", "CallStatus": "completed"}, metadata={"foo": "bar"},
        remote_call_id="CA1", remote_direction="inbound", call_flow_logic="CallFlowLogic::HelloWorld",
    )  # fmt: skip
    response = curl("GET", "/api/remote_phone_call_events?q[metadata][foo]=bar")
    assert [item["id"] for item in response.json()] == [event.pk]
    assert set(response.json()[0]) >= EVENT_KEYS
    assert curl("GET", f"/api/remote_phone_call_events/{event.pk}").status_code == 200
    body = doc_json({"metadata": {"foo": "baz"}, "metadata_merge_mode": "replace"})
    assert curl("PATCH", f"/api/remote_phone_call_events/{event.pk}", body).status_code == 204
    event.refresh_from_db()
    assert event.metadata == {"foo": "baz"}
