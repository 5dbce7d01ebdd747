import pytest

from accounts.models import Permission
from phone_calls.models import RemotePhoneCallEvent
from tests.api_cases import ResourceAPICases
from tests.phone_calls.webhook_helpers import outbound_call


def make_event(account, **fields) -> RemotePhoneCallEvent:
    call = outbound_call(account)
    defaults = {
        "details": {"CallSid": f"CA{call.pk}", "CallStatus": "completed", "Direction": "outbound-api"},
        "remote_call_id": f"CA{call.pk}",
        "remote_direction": "outbound-api",
        "call_flow_logic": "CallFlowLogic::HelloWorld",
        "call_duration": 0,
    }
    return RemotePhoneCallEvent.objects.create(phone_call=call, **{**defaults, **fields})


class TestRemotePhoneCallEventAPI(ResourceAPICases):
    list_url = "/api/remote_phone_call_events"
    resource = "remote_phone_call_events"

    def make(self, account):
        return make_event(account)


def test_show_has_the_documented_fields(client_for, account):
    event = make_event(account, metadata={"foo": "bar"})
    response = client_for.get(f"/api/remote_phone_call_events/{event.pk}")
    assert response.status_code == 200
    assert response["Location"] == f"/api/remote_phone_call_events/{event.pk}"
    body = response.json()
    assert list(body) == [
        "id",
        "phone_call_id",
        "details",
        "metadata",
        "remote_call_id",
        "remote_direction",
        "call_flow_logic",
        "created_at",
        "updated_at",
        "call_duration",
    ]
    assert (body["phone_call_id"], body["details"]["CallStatus"]) == (event.phone_call_id, "completed")


def test_update_replaces_metadata_and_answers_no_content(client_for, account):
    event = make_event(account, metadata={"old": "1"})
    response = client_for.patch(
        f"/api/remote_phone_call_events/{event.pk}",
        {"metadata": {"foo": "bar"}, "metadata_merge_mode": "replace"},
        format="json",
    )
    assert response.status_code == 204
    assert response["Location"] == f"/api/remote_phone_call_events/{event.pk}"
    event.refresh_from_db()
    assert (event.metadata, event.call_duration) == ({"foo": "bar"}, 0)


def test_update_is_unprocessable_when_it_names_a_column_it_cannot_change(client_for, account):
    event = make_event(account, metadata={"old": "1"})
    response = client_for.patch(
        f"/api/remote_phone_call_events/{event.pk}", {"metadata": {"foo": "bar"}, "call_duration": 99}, format="json"
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {"call_duration": ["is read-only"]}}
    event.refresh_from_db()
    assert (event.metadata, event.call_duration) == ({"old": "1"}, 0)


def test_update_needs_write_permission(make_client, account):
    client = make_client(account, permissions=[Permission.REMOTE_PHONE_CALL_EVENTS_READ])
    event = make_event(account)
    response = client.patch(f"/api/remote_phone_call_events/{event.pk}", {"metadata": {}}, format="json")
    assert response.status_code == 403


def test_update_with_a_bad_merge_mode_is_unprocessable(client_for, account):
    event = make_event(account)
    response = client_for.patch(
        f"/api/remote_phone_call_events/{event.pk}", {"metadata": {}, "metadata_merge_mode": "x"}, format="json"
    )
    assert response.status_code == 422


def test_post_without_a_signature_is_not_an_api_create(client_for, account):
    response = client_for.post("/api/remote_phone_call_events", {"metadata": {}}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q[details][CallStatus]": "busy"}, "busy"),
        ({"q[details][CallDuration.numeric.gt]": "10"}, "busy"),
        ({"q[call_duration_gteq]": "30"}, "busy"),
        ({"q[call_duration_lt]": "30"}, "done"),
        ({"q[call_duration]": "0"}, "done"),
        ({"q[remote_direction]": "inbound"}, "busy"),
        ({"q[call_flow_logic]": "CallFlowLogic::PlayMessage"}, "busy"),
        ({"q[remote_call_id]": "CA-busy"}, "busy"),
        ({"q[metadata][tag]": "x"}, "busy"),
    ],
)
def test_filters(client_for, account, query, expected):
    events = {
        "done": make_event(account),
        "busy": make_event(
            account,
            details={"CallStatus": "busy", "CallDuration": "40"},
            call_duration=40,
            remote_direction="inbound",
            call_flow_logic="CallFlowLogic::PlayMessage",
            remote_call_id="CA-busy",
            metadata={"tag": "x"},
        ),
    }
    response = client_for.get("/api/remote_phone_call_events", query)
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [events[expected].pk]


def test_filter_by_phone_call_id_and_timestamps(client_for, account):
    event = make_event(account)
    make_event(account)
    response = client_for.get(
        "/api/remote_phone_call_events",
        {"q[phone_call_id]": str(event.phone_call_id), "q[created_at_after]": "2000-01-01"},
    )
    assert [item["id"] for item in response.json()] == [event.pk]


def test_bad_call_duration_filter_is_unprocessable(client_for, account):
    assert client_for.get("/api/remote_phone_call_events", {"q[call_duration_gt]": "long"}).status_code == 422


@pytest.mark.parametrize(
    "route",
    [
        "/api/phone_calls/{call}/remote_phone_call_events",
        "/api/callout_participations/{participation}/remote_phone_call_events",
        "/api/callouts/{callout}/remote_phone_call_events",
        "/api/contacts/{contact}/remote_phone_call_events",
    ],
)
def test_nested_lists_are_scoped_to_their_parent(client_for, account, other_account, route):
    event = make_event(account)
    make_event(account)
    call = event.phone_call
    ids = {
        "call": call.pk,
        "participation": call.callout_participation_id,
        "callout": call.callout_id,
        "contact": call.contact_id,
    }
    response = client_for.get(route.format(**ids))
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [event.pk]
    theirs = make_event(other_account).phone_call
    other_ids = {
        "call": theirs.pk,
        "participation": theirs.callout_participation_id,
        "callout": theirs.callout_id,
        "contact": theirs.contact_id,
    }
    assert client_for.get(route.format(**other_ids)).status_code == 404


def test_list_does_not_query_per_row(client_for, account, django_assert_max_num_queries):
    for _ in range(5):
        make_event(account)
    with django_assert_max_num_queries(4):
        assert len(client_for.get("/api/remote_phone_call_events").json()) == 5
