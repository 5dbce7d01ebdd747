import threading

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Permission
from callouts.counters import callout_counts_recount
from callouts.models import Callout, CalloutParticipation
from phone_calls.models import PhoneCall
from tests.api_cases import ResourceAPICases, listed_ids
from tests.factories import (
    BatchOperationFactory,
    CalloutFactory,
    CalloutParticipationFactory,
    ContactFactory,
    PhoneCallFactory,
)


class TestCalloutsAPI(ResourceAPICases):
    list_url = "/api/callouts"
    resource = "callouts"

    def make(self, account):
        return CalloutFactory(account=account)


class TestCalloutParticipationsAPI(ResourceAPICases):
    list_url = "/api/callout_participations"
    resource = "callout_participations"

    def make(self, account):
        return CalloutParticipationFactory(callout=CalloutFactory(account=account))


# --- callouts -----------------------------------------------------------------------------------------------------


def test_create_returns_the_callout_with_location(client_for, account):
    response = client_for.post(
        "/api/callouts",
        {
            "call_flow_logic": "CallFlowLogic::PlayMessage",
            "audio_url": "https://www.example.com/sample.mp3",
            "metadata": {"foo": "bar"},
            "settings": {"external_service_1": {"foo": "bar"}},
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == f"/api/callouts/{body['id']}"
    assert body["status"] == "initialized"
    assert body["call_flow_logic"] == "CallFlowLogic::PlayMessage"
    assert body["audio_url"] == "https://www.example.com/sample.mp3"
    assert body["settings"] == {"external_service_1": {"foo": "bar"}}
    assert body["metadata"] == {"foo": "bar"}
    assert body["account_id"] == account.pk
    assert body["created_by_id"] is None


def test_create_without_call_flow_logic_uses_the_accounts(client_for, account):
    account.call_flow_logic = "CallFlowLogic::PlayMessage"
    account.save()
    response = client_for.post("/api/callouts", {}, format="json")
    assert response.status_code == 201
    assert response.json()["call_flow_logic"] == "CallFlowLogic::PlayMessage"


def test_create_with_unknown_call_flow_logic_is_unprocessable(client_for):
    response = client_for.post("/api/callouts", {"call_flow_logic": "CallFlowLogic::Nope"}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"call_flow_logic": ["is not included in the list"]}}


def test_create_with_non_hash_settings_is_unprocessable(client_for):
    response = client_for.post("/api/callouts", {"settings": "x"}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"]["settings"] == ["must be a hash"]


def test_create_accepts_form_bracket_keys(client_for):
    response = client_for.generic(
        "POST", "/api/callouts", "metadata[foo]=bar&metadata[bar]=baz", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 201
    assert response.json()["metadata"] == {"foo": "bar", "bar": "baz"}


def test_create_needs_write_permission(make_client, account):
    client = make_client(account, permissions=[Permission.CALLOUTS_READ])
    response = client.post("/api/callouts", {}, format="json")
    assert response.status_code == 403
    assert response.json() == {"errors": {"base": ["Missing permission: callouts_write"]}}


def test_update_replaces_settings_and_merges_metadata(client_for, account):
    callout = CalloutFactory(account=account, metadata={"foo": "bar"}, settings={"a": 1})
    response = client_for.patch(
        f"/api/callouts/{callout.pk}",
        {"metadata": {"bar": "foo"}, "settings": {"b": 2}, "audio_url": "https://example.com/a.mp3"},
        format="json",
    )
    assert response.status_code == 204
    assert response["Location"] == f"/api/callouts/{callout.pk}"
    callout.refresh_from_db()
    assert callout.metadata == {"foo": "bar", "bar": "foo"}
    assert callout.settings == {"b": 2}
    assert callout.audio_url == "https://example.com/a.mp3"


def test_update_with_replace_merge_mode(client_for, account):
    callout = CalloutFactory(account=account, metadata={"foo": "bar"})
    response = client_for.put(
        f"/api/callouts/{callout.pk}", {"metadata": {"bar": "foo"}, "metadata_merge_mode": "replace"}, format="json"
    )
    assert response.status_code == 204
    callout.refresh_from_db()
    assert callout.metadata == {"bar": "foo"}


def test_update_of_another_accounts_callout_is_not_found(client_for, other_account):
    callout = CalloutFactory(account=other_account)
    assert client_for.patch(f"/api/callouts/{callout.pk}", {"metadata": {}}, format="json").status_code == 404


def test_delete_removes_the_callout(client_for, account):
    callout = CalloutFactory(account=account)
    response = client_for.delete(f"/api/callouts/{callout.pk}")
    assert response.status_code == 204
    assert response["Location"] == "/api/callouts"
    assert not Callout.objects.filter(pk=callout.pk).exists()


def test_delete_is_refused_while_participations_exist(client_for, account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    response = client_for.delete(f"/api/callouts/{participation.callout_id}")
    assert response.status_code == 422
    assert response.json() == {
        "errors": {"base": ["Cannot delete record because dependent callout participations exist"]}
    }


def test_delete_is_refused_while_batch_operations_exist(client_for, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    response = client_for.delete(f"/api/callouts/{operation.callout_id}")
    assert response.status_code == 422
    assert response.json() == {"errors": {"base": ["Cannot delete record because dependent batch operations exist"]}}


def test_legacy_status_filter_and_q_filters(client_for, account):
    running = CalloutFactory(account=account, running=True)
    initialized = CalloutFactory(account=account, call_flow_logic="CallFlowLogic::PlayMessage")

    def ids(query):
        return sorted(listed_ids(client_for.get("/api/callouts?" + query)))

    assert ids("status=initialized") == [initialized.pk]
    assert ids("q[status]=running,paused") == [running.pk]
    assert ids("q[call_flow_logic]=CallFlowLogic::PlayMessage") == [initialized.pk]
    assert ids("metadata[foo]=bar") == []


def test_contact_callouts_lists_the_callouts_the_contact_takes_part_in(client_for, account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    CalloutFactory(account=account)
    response = client_for.get(f"/api/contacts/{participation.contact_id}/callouts")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [participation.callout_id]


def test_contact_callouts_of_another_accounts_contact_is_not_found(client_for, other_account):
    contact = ContactFactory(account=other_account)
    assert client_for.get(f"/api/contacts/{contact.pk}/callouts").status_code == 404


def test_list_runs_a_fixed_number_of_queries(client_for, account, django_assert_max_num_queries):
    for _ in range(10):
        CalloutFactory(account=account)
    with django_assert_max_num_queries(3):
        client_for.get("/api/callouts")


# --- callout events -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "event", "expected"),
    [
        ("initialized", "start", "running"),
        ("running", "pause", "paused"),
        ("paused", "resume", "running"),
        ("stopped", "resume", "running"),
        ("running", "stop", "stopped"),
        ("paused", "stop", "stopped"),
    ],
)
def test_event_moves_the_callout(client_for, account, status, event, expected):
    callout = CalloutFactory(account=account)
    Callout.objects.filter(pk=callout.pk).update(status=status)
    response = client_for.post(f"/api/callouts/{callout.pk}/callout_events", {"event": event}, format="json")
    assert response.status_code == 201
    assert response["Location"] == f"/api/callouts/{callout.pk}"
    assert response.json()["status"] == expected
    assert Callout.objects.get(pk=callout.pk).status == expected


@pytest.mark.parametrize(
    ("status", "event"),
    [("initialized", "pause"), ("initialized", "resume"), ("running", "start"), ("stopped", "pause"), ("x", "boom")],
)
def test_event_not_allowed_from_the_status_is_unprocessable(client_for, account, status, event):
    callout = CalloutFactory(account=account)
    if status != "x":
        Callout.objects.filter(pk=callout.pk).update(status=status)
    response = client_for.post(f"/api/callouts/{callout.pk}/callout_events", {"event": event}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"event": ["is not included in the list"]}}


def test_event_without_event_is_unprocessable(client_for, account):
    callout = CalloutFactory(account=account)
    response = client_for.post(f"/api/callouts/{callout.pk}/callout_events", {}, format="json")
    assert response.status_code == 422


def test_event_accepts_a_form_body(client_for, account):
    callout = CalloutFactory(account=account)
    response = client_for.generic(
        "POST",
        f"/api/callouts/{callout.pk}/callout_events",
        "event=start",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201
    assert response.json()["status"] == "running"


def test_event_on_another_accounts_callout_is_not_found(client_for, other_account):
    callout = CalloutFactory(account=other_account)
    response = client_for.post(f"/api/callouts/{callout.pk}/callout_events", {"event": "start"}, format="json")
    assert response.status_code == 404


def test_event_needs_callouts_write(make_client, account):
    callout = CalloutFactory(account=account)
    client = make_client(account, permissions=[Permission.CALLOUTS_READ])
    response = client.post(f"/api/callouts/{callout.pk}/callout_events", {"event": "start"}, format="json")
    assert response.status_code == 403


def test_event_needs_credentials(anonymous, account):
    callout = CalloutFactory(account=account)
    assert anonymous.post(f"/api/callouts/{callout.pk}/callout_events", {"event": "start"}).status_code == 401


def test_start_kicks_the_dispatcher_after_commit(client_for, account, monkeypatch, django_capture_on_commit_callbacks):
    kicked = []
    monkeypatch.setattr("callouts.services.account_dispatch_kick", kicked.append)
    callout = CalloutFactory(account=account)
    with django_capture_on_commit_callbacks(execute=True):
        client_for.post(f"/api/callouts/{callout.pk}/callout_events", {"event": "start"}, format="json")
        client_for.post(f"/api/callouts/{callout.pk}/callout_events", {"event": "pause"}, format="json")
    assert kicked == [account.pk]


# --- statistics ---------------------------------------------------------------------------------------------------


def test_statistics_count_participations_and_calls(client_for, account, django_assert_max_num_queries):
    # factories bypass the services that keep the counters: arrange the rows, then recount them
    callout = CalloutFactory(account=account)
    CalloutParticipationFactory(callout=callout, answered_call=True)
    given_up = CalloutParticipationFactory(callout=callout, phone_calls_count=3, given_up_at=timezone.now())
    for status in ("failed", "busy", "not_answered"):
        PhoneCallFactory(callout_participation=given_up, status=status)
    last_try = CalloutParticipationFactory(callout=callout, phone_calls_count=3)
    PhoneCallFactory(callout_participation=last_try, status="failed")
    PhoneCallFactory(callout_participation=last_try, status="in_progress")
    waiting = CalloutParticipationFactory(callout=callout, phone_calls_count=1)
    PhoneCallFactory(callout_participation=waiting)
    CalloutParticipationFactory(callout=callout)
    callout_counts_recount(callout_ids=[callout.pk])

    with django_assert_max_num_queries(5):
        response = client_for.get(f"/api/callouts/{callout.pk}/callout_statistics")
    assert response.status_code == 200
    stats = response.json()
    assert stats["callout_status"] == "initialized"
    assert stats["callout_participations"] == 5
    assert stats["callout_participations_answered"] == 1
    assert stats["callout_participations_given_up"] == 1
    assert stats["callout_participations_still_to_call"] == 3
    assert stats["callout_participations_remaining"] == 3
    assert stats["callout_participations_completed"] == 2
    assert stats["calls_completed"] == 1
    assert stats["calls_initialized"] == 1
    assert stats["calls_in_progress"] == 1
    assert stats["calls_waiting_for_completion"] == 1
    assert stats["calls_failed"] == 2
    assert stats["calls_busy"] == 1
    assert stats["calls_not_answered"] == 1
    assert stats["calls_canceled"] == 0
    assert stats["phone_calls"] == 7


def test_statistics_of_another_accounts_callout_is_not_found(client_for, other_account):
    callout = CalloutFactory(account=other_account)
    assert client_for.get(f"/api/callouts/{callout.pk}/callout_statistics").status_code == 404


def test_statistics_need_callouts_read(make_client, account):
    callout = CalloutFactory(account=account)
    client = make_client(account, permissions=[Permission.CALLOUTS_WRITE])
    assert client.get(f"/api/callouts/{callout.pk}/callout_statistics").status_code == 403


# --- participations -----------------------------------------------------------------------------------------------


def test_create_participation_defaults_msisdn_and_call_flow_logic(client_for, account):
    callout = CalloutFactory(account=account, call_flow_logic="CallFlowLogic::PlayMessage")
    contact = ContactFactory(account=account)
    response = client_for.post(
        f"/api/callouts/{callout.pk}/callout_participations",
        {"contact_id": contact.pk, "metadata": {"foo": "bar"}},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == f"/api/callout_participations/{body['id']}"
    assert body["msisdn"] == contact.msisdn
    assert body["call_flow_logic"] == "CallFlowLogic::PlayMessage"
    assert body["callout_id"] == callout.pk
    assert body["contact_id"] == contact.pk
    assert body["callout_population_id"] is None
    assert body["answered"] is False
    assert body["phone_calls_count"] == 0
    assert body["metadata"] == {"foo": "bar"}


def test_create_participation_normalizes_the_given_msisdn(client_for, account):
    callout = CalloutFactory(account=account)
    contact = ContactFactory(account=account)
    response = client_for.post(
        f"/api/callouts/{callout.pk}/callout_participations",
        {"contact_id": contact.pk, "msisdn": "252662345984", "call_flow_logic": "CallFlowLogic::HelloWorld"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["msisdn"] == "+252662345984"


def test_create_participation_without_data_is_unprocessable(client_for, account):
    callout = CalloutFactory(account=account)
    response = client_for.post(f"/api/callouts/{callout.pk}/callout_participations", {}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"msisdn": ["can't be blank"], "contact": ["must exist"]}}


def test_create_participation_for_another_accounts_contact_is_unprocessable(client_for, account, other_account):
    callout = CalloutFactory(account=account)
    contact = ContactFactory(account=other_account)
    response = client_for.post(
        f"/api/callouts/{callout.pk}/callout_participations", {"contact_id": contact.pk}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["errors"]["contact"] == ["must exist"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"contact_id": "abc"}, "contact_id"),
        ({"msisdn": "12"}, "msisdn"),
        ({"call_flow_logic": "Nope"}, "call_flow_logic"),
        ({"metadata": "x"}, "metadata"),
    ],
)
def test_create_participation_with_bad_input_is_unprocessable(client_for, account, body, error):
    callout = CalloutFactory(account=account)
    contact = ContactFactory(account=account)
    response = client_for.post(
        f"/api/callouts/{callout.pk}/callout_participations", {"contact_id": contact.pk, **body}, format="json"
    )
    assert response.status_code == 422
    assert error in response.json()["errors"]


def test_create_participation_in_another_accounts_callout_is_not_found(client_for, account, other_account):
    callout = CalloutFactory(account=other_account)
    contact = ContactFactory(account=account)
    response = client_for.post(
        f"/api/callouts/{callout.pk}/callout_participations", {"contact_id": contact.pk}, format="json"
    )
    assert response.status_code == 404


def test_create_participation_needs_write_permission(make_client, account):
    callout = CalloutFactory(account=account)
    client = make_client(account, permissions=[Permission.CALLOUT_PARTICIPATIONS_READ])
    response = client.post(f"/api/callouts/{callout.pk}/callout_participations", {}, format="json")
    assert response.status_code == 403


def test_participations_have_no_top_level_create(client_for):
    assert client_for.post("/api/callout_participations", {}, format="json").status_code == 405


def test_second_participation_of_a_contact_is_unprocessable(client_for, account):
    existing = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    response = client_for.post(
        f"/api/callouts/{existing.callout_id}/callout_participations",
        {"contact_id": existing.contact_id},
        format="json",
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {"contact_id": ["has already been taken"]}}


def test_second_participation_with_the_same_number_is_unprocessable(client_for, account):
    existing = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    other = ContactFactory(account=account)
    response = client_for.post(
        f"/api/callouts/{existing.callout_id}/callout_participations",
        {"contact_id": other.pk, "msisdn": existing.msisdn},
        format="json",
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {"msisdn": ["has already been taken"]}}


def test_update_participation_keeps_the_contact(client_for, account):
    """rest-api-current.txt's example sends another contact's contact_id and answers 204: the name is known, the
    contact never changes."""
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account), metadata={"foo": "bar"})
    other = ContactFactory(account=account)
    response = client_for.patch(
        f"/api/callout_participations/{participation.pk}",
        {
            "contact_id": other.pk,
            "msisdn": "252662345988",
            "call_flow_logic": "CallFlowLogic::PlayMessage",
            "metadata": {"bar": "foo"},
            "metadata_merge_mode": "replace",
        },
        format="json",
    )
    assert response.status_code == 204
    assert response["Location"] == f"/api/callout_participations/{participation.pk}"
    participation.refresh_from_db()
    assert participation.contact_id != other.pk
    assert participation.msisdn == "+252662345988"
    assert participation.call_flow_logic == "CallFlowLogic::PlayMessage"
    assert participation.metadata == {"bar": "foo"}


def test_update_participation_to_a_taken_number_is_unprocessable(client_for, account):
    callout = CalloutFactory(account=account)
    first = CalloutParticipationFactory(callout=callout)
    second = CalloutParticipationFactory(callout=callout)
    response = client_for.patch(f"/api/callout_participations/{second.pk}", {"msisdn": first.msisdn}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"msisdn": ["has already been taken"]}}


def test_show_participation(client_for, account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    response = client_for.get(f"/api/callout_participations/{participation.pk}")
    assert response.status_code == 200
    assert response["Location"] == f"/api/callout_participations/{participation.pk}"
    assert response.json()["id"] == participation.pk


def test_delete_participation(client_for, account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    response = client_for.delete(f"/api/callout_participations/{participation.pk}")
    assert response.status_code == 204
    assert response["Location"] == "/api/callout_participations"
    assert not CalloutParticipation.objects.filter(pk=participation.pk).exists()


def test_delete_participation_is_refused_once_it_was_dialled(client_for, account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    PhoneCallFactory(callout_participation=participation, status="not_answered")
    response = client_for.delete(f"/api/callout_participations/{participation.pk}")
    assert response.status_code == 422
    assert response.json() == {"errors": {"base": ["Cannot delete record because dependent phone calls exist"]}}


def test_delete_participation_takes_its_undialled_call_along(client_for, account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=account))
    call = PhoneCallFactory(callout_participation=participation)
    assert client_for.delete(f"/api/callout_participations/{participation.pk}").status_code == 204
    assert not PhoneCall.objects.filter(pk=call.pk).exists()


def test_delete_participation_of_another_account_is_not_found(client_for, other_account):
    participation = CalloutParticipationFactory(callout=CalloutFactory(account=other_account))
    assert client_for.delete(f"/api/callout_participations/{participation.pk}").status_code == 404


def test_nested_participation_lists(client_for, account):
    callout = CalloutFactory(account=account)
    mine = CalloutParticipationFactory(callout=callout)
    populated = BatchOperationFactory(callout=callout)
    CalloutParticipation.objects.filter(pk=mine.pk).update(callout_population=populated)
    CalloutParticipationFactory(callout=CalloutFactory(account=account))

    for url in (
        f"/api/callouts/{callout.pk}/callout_participations",
        f"/api/contacts/{mine.contact_id}/callout_participations",
        f"/api/batch_operations/{populated.pk}/callout_participations",
        f"/api/callout_populations/{populated.pk}/callout_participations",
    ):
        response = client_for.get(url)
        assert response.status_code == 200, url
        assert [item["id"] for item in response.json()] == [mine.pk], url


def test_nested_participation_list_of_another_accounts_parent_is_not_found(client_for, other_account):
    callout = CalloutFactory(account=other_account)
    assert client_for.get(f"/api/callouts/{callout.pk}/callout_participations").status_code == 404


def test_participation_filters(client_for, account):
    callout = CalloutFactory(account=account, running=True)
    other_callout = CalloutFactory(account=account, call_flow_logic="CallFlowLogic::PlayMessage")
    fresh = CalloutParticipationFactory(callout=callout)
    failed = CalloutParticipationFactory(callout=callout)
    PhoneCallFactory(callout_participation=failed, status="completed")
    PhoneCallFactory(callout_participation=failed, status="failed")
    answered = CalloutParticipationFactory(callout=other_callout, answered_call=True, msisdn="+252662345678")

    def ids(query):
        return sorted(listed_ids(client_for.get("/api/callout_participations?" + query)))

    assert ids(f"q[callout_id]={callout.pk}") == sorted([fresh.pk, failed.pk])
    assert ids(f"q[contact_id]={fresh.contact_id},{answered.contact_id}") == sorted([fresh.pk, answered.pk])
    assert ids("q[msisdn]=252662345678") == [answered.pk]
    assert ids("q[call_flow_logic]=CallFlowLogic::PlayMessage") == [answered.pk]
    assert ids("q[answered]=true") == [answered.pk]
    assert ids("q[answered]=false") == sorted([fresh.pk, failed.pk])
    assert ids("q[has_phone_calls]=false") == [fresh.pk]
    assert ids("q[has_phone_calls]=true") == sorted([failed.pk, answered.pk])
    assert ids("q[last_phone_call_attempt]=failed,busy") == [failed.pk]
    assert ids("q[no_phone_calls_or_last_attempt]=failed") == sorted([fresh.pk, failed.pk])
    assert ids("q[callout_filter_params][status]=running") == sorted([fresh.pk, failed.pk])
    assert ids("callout_filter_params[call_flow_logic]=CallFlowLogic::PlayMessage") == [answered.pk]
    assert ids("q[callout_population_id]=0") == []


@pytest.mark.parametrize(
    "query",
    ["q[answered]=maybe", "q[callout_id]=abc", "q[callout_filter_params]=x", "q[callout_filter_params][nope]=1"],
)
def test_bad_participation_filters_are_unprocessable(client_for, account, query):
    response = client_for.get("/api/callout_participations?" + query)
    assert response.status_code == 422, response.content


def test_participation_list_runs_a_fixed_number_of_queries(client_for, account, django_assert_max_num_queries):
    callout = CalloutFactory(account=account)
    for _ in range(10):
        CalloutParticipationFactory(callout=callout)
    with django_assert_max_num_queries(4):
        client_for.get(f"/api/callouts/{callout.pk}/callout_participations")


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_participation_make_one(make_client, require_postgresql):
    client = make_client()
    callout = CalloutFactory(account=client.account)
    contact = ContactFactory(account=client.account)
    results = []

    def create():
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {client.token.token}")
        response = c.post(
            f"/api/callouts/{callout.pk}/callout_participations", {"contact_id": contact.pk}, format="json"
        )
        results.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201] + [422] * 5
    assert CalloutParticipation.objects.filter(callout=callout).count() == 1
