"""The phone-call API: index and nested indexes, show, create, update, delete and events."""

import pytest

from accounts.models import Permission
from phone_calls.models import PhoneCall
from tests.api_cases import ResourceAPICases
from tests.factories import CalloutFactory, CalloutParticipationFactory, ContactFactory, PhoneCallFactory

READ_FIELDS = {
    "id",
    "callout_participation_id",
    "contact_id",
    "create_batch_operation_id",
    "queue_batch_operation_id",
    "queue_remote_fetch_batch_operation_id",
    "status",
    "msisdn",
    "remote_call_id",
    "remote_status",
    "remote_direction",
    "remote_error_message",
    "metadata",
    "remote_response",
    "remote_request_params",
    "remote_queue_response",
    "call_flow_logic",
    "remotely_queued_at",
    "created_at",
    "updated_at",
    "duration",
    "lock_version",
    "account_id",
    "remote_status_fetch_queued_at",
    "callout_id",
}
REQUEST_PARAMS = {"from": "1234", "url": "https://demo.twilio.com/docs/voice.xml", "method": "GET"}


def call_of(account, **fields) -> PhoneCall:
    return PhoneCallFactory(callout_participation__callout=CalloutFactory(account=account), **fields)


class TestPhoneCallAPI(ResourceAPICases):
    list_url = "/api/phone_calls"
    resource = "phone_calls"

    def make(self, account):
        return call_of(account)


def test_show_returns_every_column(client_for, account):
    call = call_of(account, metadata={"foo": "bar"})
    response = client_for.get(f"/api/phone_calls/{call.pk}")
    assert response.status_code == 200
    assert response["Location"] == f"/api/phone_calls/{call.pk}"
    assert set(response.json()) == READ_FIELDS
    assert response.json()["status"] == "created"


def test_list_runs_a_constant_number_of_queries(client_for, account, django_assert_max_num_queries):
    for _ in range(5):
        call_of(account)
    with django_assert_max_num_queries(6):
        assert len(client_for.get("/api/phone_calls").json()) == 5


@pytest.mark.parametrize(
    ("parent", "url"),
    [
        ("callout", "/api/callouts/{}/phone_calls"),
        ("callout_participation", "/api/callout_participations/{}/phone_calls"),
        ("contact", "/api/contacts/{}/phone_calls"),
    ],
)
def test_nested_index_lists_only_the_parents_calls(client_for, account, parent, url):
    mine = call_of(account)
    call_of(account)
    response = client_for.get(url.format(getattr(mine, f"{parent}_id")))
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [mine.pk]


@pytest.mark.parametrize(
    "url",
    ["/api/callouts/{}/phone_calls", "/api/callout_participations/{}/phone_calls", "/api/contacts/{}/phone_calls"],
)
def test_nested_index_of_another_accounts_parent_is_not_found(client_for, other_account, url):
    theirs = call_of(other_account)
    parent_id = {"callouts": theirs.callout_id, "callout_participations": theirs.callout_participation_id}.get(
        url.split("/")[2], theirs.contact_id
    )
    assert client_for.get(url.format(parent_id)).status_code == 404


@pytest.mark.parametrize(
    ("params", "matches"),
    [
        ({"q[status]": "completed,busy"}, True),
        ({"q[status]": "created"}, False),
        ({"q[msisdn]": "+855 10 000 0777"}, True),
        ({"q[remote_call_id]": "CA777"}, True),
        ({"q[remote_status]": "completed"}, True),
        ({"q[remote_direction]": "outbound-api"}, True),
        ({"q[remote_error_message]": "nope"}, True),
        ({"q[call_flow_logic]": "CallFlowLogic::HelloWorld"}, True),
        ({"q[duration]": "42"}, True),
        ({"q[duration_gt]": "41"}, True),
        ({"q[duration_gteq]": "42"}, True),
        ({"q[duration_lt]": "42"}, False),
        ({"q[duration_lteq]": "42"}, True),
        ({"q[remote_response][status]": "completed"}, True),
        ({"q[remote_queue_response][from]": "345"}, True),
        ({"q[remote_request_params][method]": "GET"}, True),
        ({"q[remotely_queued_at_after]": "2000-01-01"}, True),
        ({"q[remotely_queued_at_before]": "2000-01-01"}, False),
        ({"q[created_at_or_before]": "2000-01-01 00:00:00"}, False),
    ],
)
def test_index_filters(client_for, account, params, matches):
    from django.utils import timezone

    call = call_of(
        account,
        msisdn="+855100000777",
        status="completed",
        remote_call_id="CA777",
        remote_status="completed",
        remote_direction="outbound-api",
        remote_error_message="nope",
        duration=42,
        remote_response={"status": "completed"},
        remote_queue_response={"from": "345"},
        remote_request_params={"method": "GET"},
        remotely_queued_at=timezone.now(),
    )
    call_of(account, call_flow_logic="CallFlowLogic::PlayMessage", duration=100)
    response = client_for.get("/api/phone_calls", params)
    assert response.status_code == 200
    assert (call.pk in [item["id"] for item in response.json()]) is matches


@pytest.mark.parametrize("param", ["q[duration_gt]", "q[callout_id]", "q[remotely_queued_at_after]"])
def test_bad_filter_values_are_unprocessable(client_for, account, param):
    assert client_for.get("/api/phone_calls", {param: "abc"}).status_code == 422


def test_create_on_a_participation(client_for, account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    response = client_for.post(
        f"/api/callout_participations/{participation.pk}/phone_calls",
        {"remote_request_params": REQUEST_PARAMS, "metadata": {"foo": "bar"}},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == f"/api/phone_calls/{body['id']}"
    assert (body["status"], body["msisdn"], body["remote_request_params"]) == (
        "created",
        participation.msisdn,
        REQUEST_PARAMS,
    )
    participation.refresh_from_db()
    assert participation.phone_calls_count == 1


def test_create_accepts_form_bodies_with_bracket_keys(client_for, account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    response = client_for.post(
        f"/api/callout_participations/{participation.pk}/phone_calls",
        {"remote_request_params[from]": "1234", "remote_request_params[method]": "GET"},
    )
    assert response.status_code == 201
    assert response.json()["remote_request_params"] == {"from": "1234", "method": "GET"}


def test_create_rejects_unknown_twilio_parameters(client_for, account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    response = client_for.post(
        f"/api/callout_participations/{participation.pk}/phone_calls",
        {"remote_request_params": {"From": "1234", "bogus": 1}},
        format="json",
    )
    assert response.status_code == 422
    assert "bogus" in str(response.json()["errors"]["remote_request_params"])


# Calls made by hand are the user's decision: the family is "a participation that already has a call, in any status
# (waiting, in flight or ended)"; a new call is created beside it, waiting in `created`.
@pytest.mark.parametrize("status", ["created", "queued", "remotely_queued", "in_progress", "completed", "errored"])
def test_create_adds_a_waiting_call_beside_the_participations_call_when_it_is_any_status(client_for, account, status):
    call = call_of(account, status=status, callout_participation__phone_calls_count=1)
    response = client_for.post(
        f"/api/callout_participations/{call.callout_participation_id}/phone_calls",
        {"remote_request_params": REQUEST_PARAMS},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "created"
    assert PhoneCall.objects.get(pk=call.pk).status == status
    assert sorted(
        PhoneCall.objects.filter(callout_participation_id=call.callout_participation_id).values_list(
            "status", flat=True
        )
    ) == sorted([status, "created"])
    call.callout_participation.refresh_from_db()
    assert call.callout_participation.phone_calls_count == 2


def test_create_on_another_accounts_participation_is_not_found(client_for, other_account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=other_account))
    response = client_for.post(f"/api/callout_participations/{participation.pk}/phone_calls", {})
    assert response.status_code == 404
    assert not PhoneCall.objects.exists()


def test_create_needs_write_permission(make_client, account):
    client = make_client(account, permissions=[Permission.PHONE_CALLS_READ])
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    response = client.post(f"/api/callout_participations/{participation.pk}/phone_calls", {})
    assert response.status_code == 403


def test_update_changes_params_and_metadata_while_created(client_for, account):
    call = call_of(account, metadata={"a": 1})
    response = client_for.patch(
        f"/api/phone_calls/{call.pk}",
        {"remote_request_params": {"from": "345"}, "metadata": {"b": 2}, "metadata_merge_mode": "merge"},
        format="json",
    )
    assert response.status_code == 204
    call.refresh_from_db()
    assert (call.remote_request_params, call.metadata) == ({"from": "345"}, {"a": 1, "b": 2})


def test_update_of_request_params_is_unprocessable_once_queued(client_for, account):
    call = call_of(account, status="queued")
    response = client_for.patch(
        f"/api/phone_calls/{call.pk}", {"remote_request_params": {"from": "345"}}, format="json"
    )
    assert response.status_code == 422
    response = client_for.patch(f"/api/phone_calls/{call.pk}", {"metadata": {"b": 2}}, format="json")
    assert response.status_code == 204


def test_update_with_an_unknown_call_flow_is_unprocessable(client_for, account):
    call = call_of(account)
    response = client_for.patch(f"/api/phone_calls/{call.pk}", {"call_flow_logic": "Nope"}, format="json")
    assert response.status_code == 422


def test_update_of_another_accounts_call_is_not_found(client_for, other_account):
    call = call_of(other_account)
    assert client_for.patch(f"/api/phone_calls/{call.pk}", {"metadata": {"x": 1}}, format="json").status_code == 404


def test_delete_removes_a_created_call(client_for, account):
    call = call_of(account)
    response = client_for.delete(f"/api/phone_calls/{call.pk}")
    assert response.status_code == 204
    assert not PhoneCall.objects.filter(pk=call.pk).exists()


def test_delete_is_unprocessable_once_queued(client_for, account):
    call = call_of(account, status="remotely_queued")
    response = client_for.delete(f"/api/phone_calls/{call.pk}")
    assert response.status_code == 422
    assert response.json() == {"errors": {"base": ["Cannot delete record because status is remotely_queued"]}}


def test_delete_needs_write_permission(make_client, account):
    client = make_client(account, permissions=[Permission.PHONE_CALLS_READ])
    assert client.delete(f"/api/phone_calls/{call_of(account).pk}").status_code == 403


def test_queue_event_queues_and_dials_the_call(client_for, account, django_capture_on_commit_callbacks):
    account.settings = {**account.settings, "simulator_outcomes": {"completed": 1}}
    account.platform_provider_name = "simulator"
    account.save()
    call = call_of(account)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for.post(f"/api/phone_calls/{call.pk}/phone_call_events", {"event": "queue"}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "queued"
    call.refresh_from_db()
    assert call.status == "completed"


# The family: queueing a waiting call while another call of the same participation is in flight (each in-flight
# status) is a 422 naming that call; the call stays `created` and nothing is dialled.
@pytest.mark.parametrize("status", ["queued", "remotely_queued", "in_progress"])
def test_queue_event_is_unprocessable_while_another_call_of_the_participation_is_in_flight(
    client_for, account, status, django_capture_on_commit_callbacks
):
    in_flight = call_of(account, status=status)
    waiting = PhoneCallFactory(callout_participation=in_flight.callout_participation)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for.post(f"/api/phone_calls/{waiting.pk}/phone_call_events", {"event": "queue"})
    assert response.status_code == 422
    assert response.json() == {
        "errors": {
            "event": [
                f"cannot queue this phone call while phone call {in_flight.pk} of its callout participation is "
                f"{status}: a participation is dialled once at a time"
            ]
        }
    }
    assert callbacks == []
    assert PhoneCall.objects.get(pk=waiting.pk).status == "created"


# ...and the family it allows: the other calls of the participation are waiting or have ended.
@pytest.mark.parametrize("status", ["created", "completed", "errored", "failed", "expired"])
def test_queue_event_queues_a_call_when_the_participations_other_call_is_not_in_flight(client_for, account, status):
    other = call_of(account, status=status)
    waiting = PhoneCallFactory(callout_participation=other.callout_participation)
    response = client_for.post(f"/api/phone_calls/{waiting.pk}/phone_call_events", {"event": "queue"})
    assert response.status_code == 201
    assert response.json()["status"] == "queued"
    assert PhoneCall.objects.get(pk=other.pk).status == status


def test_queue_event_on_a_queued_call_is_unprocessable(client_for, account):
    call = call_of(account, status="completed")
    response = client_for.post(f"/api/phone_calls/{call.pk}/phone_call_events", {"event": "queue"})
    assert response.status_code == 422


def test_queue_remote_fetch_event_marks_the_fetch(client_for, account):
    call = call_of(account, status="remotely_queued", remote_call_id="SIMunknown")
    response = client_for.post(f"/api/phone_calls/{call.pk}/phone_call_events", {"event": "queue_remote_fetch"})
    assert response.status_code == 201
    assert response.json()["remote_status_fetch_queued_at"] is not None


def test_queue_remote_fetch_event_without_a_remote_call_is_unprocessable(client_for, account):
    call = call_of(account)
    response = client_for.post(f"/api/phone_calls/{call.pk}/phone_call_events", {"event": "queue_remote_fetch"})
    assert response.status_code == 422


@pytest.mark.parametrize("body", [{"event": "explode"}, {}, {"event": ""}])
def test_unknown_event_is_unprocessable(client_for, account, body):
    call = call_of(account)
    response = client_for.post(f"/api/phone_calls/{call.pk}/phone_call_events", body, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"event": ["is not included in the list"]}}


def test_event_on_another_accounts_call_is_not_found(client_for, other_account):
    call = call_of(other_account)
    response = client_for.post(f"/api/phone_calls/{call.pk}/phone_call_events", {"event": "queue"})
    assert response.status_code == 404


def test_event_needs_credentials(anonymous, db):
    contact = ContactFactory()
    assert anonymous.post(f"/api/contacts/{contact.pk}/phone_calls", {}).status_code in (401, 405)
    assert anonymous.post("/api/phone_calls/1/phone_call_events", {"event": "queue"}).status_code == 401
