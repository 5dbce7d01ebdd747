"""The legacy phone-call batch operations over HTTP: create, previews, the queue event (run inline), results."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Permission
from batch_operations.models import BatchOperation
from callouts.models import CalloutParticipation
from phone_calls.models import PhoneCall
from tests.api_cases import listed_ids
from tests.factories import (
    BatchOperationFactory,
    CalloutFactory,
    CalloutParticipationFactory,
    ContactFactory,
    PhoneCallFactory,
)

CREATE = "BatchOperation::PhoneCallCreate"
QUEUE = "BatchOperation::PhoneCallQueue"
FETCH = "BatchOperation::PhoneCallQueueRemoteFetch"
REMOTE_REQUEST_PARAMS = {"from": "1234", "url": "https://demo.twilio.com/docs/voice.xml", "method": "GET"}


def create(client, type, **parameters):
    return client.post("/api/batch_operations", {"type": type, "parameters": parameters}, format="json")


def created(client, type, **parameters) -> dict:
    response = create(client, type, **parameters)
    assert response.status_code == 201, response.json()
    return response.json()


def run(client, operation_id, capture, event="queue"):
    with capture(execute=True):
        response = client.post(f"/api/batch_operations/{operation_id}/batch_operation_events", {"event": event})
    assert response.status_code == 201, response.json()
    return BatchOperation.objects.get(pk=operation_id)


def ended_call(participation, status="failed"):
    return PhoneCallFactory(callout_participation=participation, status=status)


# --- create -------------------------------------------------------------------------------------------------------


def test_create_phone_call_create_with_the_documented_form_body(client_for, account):
    CalloutParticipationFactory(callout=CalloutFactory(account=account, status="running"))
    body = (
        f"type={CREATE}&parameters[callout_filter_params][status]=running"
        "&parameters[callout_participation_filter_params][no_phone_calls_or_last_attempt]=failed,errored"
        "&parameters[remote_request_params][from]=1234"
        "&parameters[remote_request_params][url]=https%3A%2F%2Fdemo.twilio.com%2Fdocs%2Fvoice.xml"
        "&parameters[remote_request_params][method]=GET&parameters[limit]=30"
    )
    response = client_for.generic(
        "POST", "/api/batch_operations", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["type"] == CREATE
    assert response.json()["status"] == "preview"
    assert response.json()["parameters"]["remote_request_params"] == REMOTE_REQUEST_PARAMS
    assert response.json()["parameters"]["limit"] == "30"


def test_create_phone_call_create_is_422_when_remote_request_params_are_missing(client_for, account):
    CalloutParticipationFactory(callout=CalloutFactory(account=account))
    response = create(client_for, CREATE)
    assert response.status_code == 422
    assert response.json() == {"errors": {"remote_request_params": ["can't be blank"]}}


def test_create_phone_call_create_is_422_when_remote_request_params_are_not_twilio_parameters(client_for, account):
    CalloutParticipationFactory(callout=CalloutFactory(account=account))
    response = create(client_for, CREATE, remote_request_params={"from": "1234", "bogus": "x"})
    assert response.status_code == 422
    assert response.json() == {"errors": {"remote_request_params": ["contains unknown Twilio call parameters: bogus"]}}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("callout_participation_filter_params", {"nonsense": "1"}),
        ("callout_participation_filter_params", {"has_phone_calls": "maybe"}),
        ("callout_filter_params", {"status": {"a": "b"}}),
        ("phone_call_filter_params", {"duration": "long"}),
        ("phone_call_filter_params", "not a hash"),
    ],
)
def test_create_is_422_keyed_under_the_parameter_when_a_filter_is_bad(client_for, account, name, value):
    PhoneCallFactory(callout_participation__callout=CalloutFactory(account=account, status="running"))
    response = create(client_for, QUEUE, **{name: value})
    assert response.status_code == 422, response.json()
    assert list(response.json()["errors"]) == [name]


@pytest.mark.parametrize(
    ("name", "value"),
    [("limit", "many"), ("max", -1), ("max_per_period_timestamp_attribute", "dispatched_at")],
)
def test_create_is_422_when_a_limit_parameter_is_bad(client_for, account, name, value):
    PhoneCallFactory(callout_participation__callout=CalloutFactory(account=account, status="running"))
    response = create(client_for, QUEUE, **{name: value})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [name]


def test_create_is_422_when_the_preview_is_empty(client_for, account):
    response = create(client_for, FETCH, phone_call_filter_params={"status": "in_progress"})
    assert response.status_code == 422
    assert response.json() == {"errors": {"phone_calls_preview": ["can't be blank"]}}


def test_create_accepts_an_empty_preview_when_skip_validate_preview_presence(client_for, account):
    created(client_for, FETCH, skip_validate_preview_presence="true")
    created(client_for, CREATE, remote_request_params=REMOTE_REQUEST_PARAMS, skip_validate_preview_presence=True)


def test_create_deep_merges_the_account_defaults_under_the_parameters(client_for, account):
    account.settings = {
        "batch_operation_phone_call_create_parameters": {
            "remote_request_params": {"from": "999", "method": "GET"},
            "skip_validate_preview_presence": True,
        }
    }
    account.save()
    body = created(client_for, CREATE, remote_request_params={"from": "1234"})
    assert body["parameters"] == {
        "remote_request_params": {"from": "1234", "method": "GET"},
        "skip_validate_preview_presence": True,
    }


# --- previews -----------------------------------------------------------------------------------------------------


def test_preview_callout_participations_lists_who_would_get_a_call(client_for, account, other_account):
    running = CalloutFactory(account=account, status="running")
    fresh = CalloutParticipationFactory(callout=running)
    retry = CalloutParticipationFactory(callout=running)
    ended_call(retry)
    ended_call(CalloutParticipationFactory(callout=running), status="completed")
    PhoneCallFactory(callout_participation__callout=running)  # has a live call
    CalloutParticipationFactory(callout=CalloutFactory(account=account, status="paused"))
    CalloutParticipationFactory(callout=CalloutFactory(account=other_account, status="running"))
    operation = created(
        client_for,
        CREATE,
        remote_request_params=REMOTE_REQUEST_PARAMS,
        callout_filter_params={"status": "running"},
        callout_participation_filter_params={"no_phone_calls_or_last_attempt": "failed,errored"},
    )
    response = client_for.get(f"/api/batch_operations/{operation['id']}/preview/callout_participations")
    assert sorted(listed_ids(response)) == [fresh.pk, retry.pk]
    assert response["Total"] == "2"
    contacts = client_for.get(f"/api/batch_operations/{operation['id']}/preview/contacts")
    assert sorted(listed_ids(contacts)) == sorted([fresh.contact_id, retry.contact_id])


def test_preview_is_limited_and_paginated(client_for, account):
    callout = CalloutFactory(account=account)
    participations = [CalloutParticipationFactory(callout=callout) for _ in range(12)]
    operation = created(client_for, CREATE, remote_request_params=REMOTE_REQUEST_PARAMS, limit=7)
    url = f"/api/batch_operations/{operation['id']}/preview/callout_participations"
    response = client_for.get(url, {"per_page": 5, "page": 2, "sort": "id"})
    assert response["Total"] == "7"
    assert listed_ids(response) == [p.pk for p in participations[5:7]]


def test_preview_applies_max_per_period(client_for, account):
    callout = CalloutFactory(account=account)
    [CalloutParticipationFactory(callout=callout) for _ in range(5)]
    for _ in range(3):
        ended_call(CalloutParticipationFactory(callout=CalloutFactory(account=account)), status="completed")
    PhoneCall.objects.update(remotely_queued_at=timezone.now() - timedelta(hours=1))
    operation = created(
        client_for,
        CREATE,
        remote_request_params=REMOTE_REQUEST_PARAMS,
        callout_participation_filter_params={"has_phone_calls": "false"},
        max_per_period=5,
        max=10,
    )
    response = client_for.get(f"/api/batch_operations/{operation['id']}/preview/callout_participations")
    assert response["Total"] == "2"


def test_preview_of_an_operation_in_a_callout_is_scoped_to_it(client_for, account):
    callout = CalloutFactory(account=account)
    mine = CalloutParticipationFactory(callout=callout)
    CalloutParticipationFactory(callout=CalloutFactory(account=account))
    response = client_for.post(
        f"/api/callouts/{callout.pk}/batch_operations",
        {"type": CREATE, "parameters": {"remote_request_params": REMOTE_REQUEST_PARAMS}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    preview = client_for.get(f"/api/batch_operations/{response.json()['id']}/preview/callout_participations")
    assert listed_ids(preview) == [mine.pk]


def test_preview_phone_calls_lists_each_participations_next_waiting_call_for_a_queue(
    client_for, account, other_account
):
    # the family: the callouts' status (any: the filters choose), calls of one participation (the lowest waiting
    # id only), a participation with a call in flight (none), other statuses and accounts (none)
    running = CalloutFactory(account=account, status="running")
    due = PhoneCallFactory(callout_participation__callout=running)
    PhoneCallFactory(callout_participation=due.callout_participation)  # waits behind `due`
    in_flight = PhoneCallFactory(callout_participation__callout=running, status="remotely_queued")
    PhoneCallFactory(callout_participation=in_flight.callout_participation)  # waits until it has settled
    PhoneCallFactory(callout_participation__callout=running, status="queued")
    ended = PhoneCallFactory(callout_participation__callout=running, status="failed")
    after_failure = PhoneCallFactory(callout_participation=ended.callout_participation)
    paused = PhoneCallFactory(callout_participation__callout=CalloutFactory(account=account, status="paused"))
    stopped = PhoneCallFactory(callout_participation__callout=CalloutFactory(account=account, status="stopped"))
    PhoneCallFactory(callout_participation__callout=CalloutFactory(account=other_account, status="running"))
    operation = created(client_for, QUEUE, phone_call_filter_params={"status": "created"})
    preview = client_for.get(f"/api/batch_operations/{operation['id']}/preview/phone_calls")
    assert sorted(listed_ids(preview)) == [due.pk, after_failure.pk, paused.pk, stopped.pk]


@pytest.mark.parametrize("status", ["initialized", "running", "paused", "stopped"])
def test_preview_phone_calls_of_a_queue_follows_the_callout_status_filter(client_for, account, status):
    calls = {
        callout_status: PhoneCallFactory(
            callout_participation__callout=CalloutFactory(account=account, status=callout_status)
        )
        for callout_status in ["initialized", "running", "paused", "stopped"]
    }
    operation = created(
        client_for, QUEUE, callout_filter_params={"status": status}, phone_call_filter_params={"status": "created"}
    )
    preview = client_for.get(f"/api/batch_operations/{operation['id']}/preview/phone_calls")
    assert listed_ids(preview) == [calls[status].pk]


def test_preview_phone_calls_lists_accepted_calls_for_a_remote_fetch(client_for, account):
    callout = CalloutFactory(account=account)
    in_progress = PhoneCallFactory(callout_participation__callout=callout, status="in_progress", remote_call_id="CA1")
    PhoneCallFactory(callout_participation__callout=callout, status="completed", remote_call_id="CA2")
    PhoneCallFactory(callout_participation__callout=callout)
    operation = created(client_for, FETCH, phone_call_filter_params={"status": "remotely_queued,in_progress"})
    preview = client_for.get(f"/api/batch_operations/{operation['id']}/preview/phone_calls")
    assert listed_ids(preview) == [in_progress.pk]


def test_preview_of_a_resource_the_type_has_not_is_422(client_for, account):
    operation = created(client_for, FETCH, skip_validate_preview_presence=True)
    response = client_for.get(f"/api/batch_operations/{operation['id']}/preview/callout_participations")
    assert response.status_code == 422
    assert response.json() == {"errors": {"base": [f"{FETCH} has no callout_participations preview"]}}


def test_preview_phone_calls_needs_phone_calls_read(make_client, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account), type=FETCH)
    client = make_client(account, permissions=[Permission.BATCH_OPERATIONS_READ])
    assert client.get(f"/api/batch_operations/{operation.pk}/preview/phone_calls").status_code == 403
    assert client.get(f"/api/batch_operations/{operation.pk}/preview/callout_participations").status_code == 403
    assert client.get(f"/api/batch_operations/{operation.pk}/phone_calls").status_code == 403


def test_previews_and_results_of_another_accounts_operation_are_not_found(client_for, other_account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=other_account), type=QUEUE)
    assert client_for.get(f"/api/batch_operations/{operation.pk}/preview/phone_calls").status_code == 404
    assert client_for.get(f"/api/batch_operations/{operation.pk}/phone_calls").status_code == 404


# --- running and results ------------------------------------------------------------------------------------------


def test_queue_creates_one_call_per_previewed_participation(
    client_for, account, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    callout = CalloutFactory(account=account, call_flow_logic="CallFlowLogic::PlayMessage")
    fresh = [CalloutParticipationFactory(callout=callout) for _ in range(3)]
    retry = CalloutParticipationFactory(callout=callout)
    ended_call(retry)
    busy = CalloutParticipationFactory(callout=callout)
    live = PhoneCallFactory(callout_participation=busy)
    operation = created(client_for, CREATE, remote_request_params=REMOTE_REQUEST_PARAMS)

    operation = run(client_for, operation["id"], django_capture_on_commit_callbacks)

    assert (operation.status, operation.processed_count) == ("finished", 4)
    calls = PhoneCall.objects.filter(create_batch_operation=operation)
    assert sorted(calls.values_list("callout_participation_id", flat=True)) == sorted(p.pk for p in [*fresh, retry])
    call = calls.get(callout_participation=fresh[0])
    assert (call.status, call.remote_request_params, call.call_flow_logic) == (
        "created",
        REMOTE_REQUEST_PARAMS,
        "CallFlowLogic::PlayMessage",
    )
    assert (call.account_id, call.callout_id, call.contact_id, call.msisdn) == (
        account.pk,
        callout.pk,
        fresh[0].contact_id,
        fresh[0].msisdn,
    )
    counts = dict(CalloutParticipation.objects.filter(callout=callout).values_list("pk", "phone_calls_count"))
    assert counts == {**{p.pk: 1 for p in fresh}, retry.pk: 1, busy.pk: 0}  # factories do not count
    assert PhoneCall.objects.filter(callout_participation=busy).get() == live
    with django_assert_max_num_queries(4):
        response = client_for.get(f"/api/batch_operations/{operation.pk}/phone_calls")
    assert sorted(listed_ids(response)) == sorted(calls.values_list("pk", flat=True))
    assert response.json()[0]["create_batch_operation_id"] == operation.pk


def test_queue_creates_at_most_limit_calls_across_chunks(
    client_for, account, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("batch_operations.phone_call_operations.CHUNK_SIZE", 2)
    callout = CalloutFactory(account=account)
    participations = [CalloutParticipationFactory(callout=callout) for _ in range(7)]
    operation = created(client_for, CREATE, remote_request_params=REMOTE_REQUEST_PARAMS, limit=5)

    operation = run(client_for, operation["id"], django_capture_on_commit_callbacks)

    assert operation.processed_count == 5
    created_for = PhoneCall.objects.filter(create_batch_operation=operation).values_list("callout_participation_id")
    assert sorted(pk for (pk,) in created_for) == [p.pk for p in participations[:5]]


def test_requeue_creates_calls_only_where_none_is_live(client_for, account, django_capture_on_commit_callbacks):
    callout = CalloutFactory(account=account)
    first, second = CalloutParticipationFactory(callout=callout), CalloutParticipationFactory(callout=callout)
    operation = created(client_for, CREATE, remote_request_params=REMOTE_REQUEST_PARAMS)
    run(client_for, operation["id"], django_capture_on_commit_callbacks)
    PhoneCall.objects.filter(callout_participation=first).update(status="failed")

    operation = run(client_for, operation["id"], django_capture_on_commit_callbacks, event="requeue")

    assert (operation.status, operation.processed_count) == ("finished", 1)
    assert PhoneCall.objects.filter(callout_participation=first).count() == 2
    assert PhoneCall.objects.filter(callout_participation=second).count() == 1
    assert CalloutParticipation.objects.get(pk=first.pk).phone_calls_count == 2


def test_queue_hands_previewed_calls_to_the_dispatcher(
    client_for, account, django_capture_on_commit_callbacks, monkeypatch
):
    kicked = []
    monkeypatch.setattr("batch_operations.phone_call_operations.account_dispatch_kick", kicked.append)
    running = CalloutFactory(account=account, status="running")
    backing_off = PhoneCallFactory(
        callout_participation__callout=running, queue_after=timezone.now() + timedelta(hours=1)
    )
    other = PhoneCallFactory(callout_participation__callout=running)
    operation = created(client_for, QUEUE, phone_call_filter_params={"status": "created"}, limit=1)

    operation = run(client_for, operation["id"], django_capture_on_commit_callbacks)

    assert operation.processed_count == 1
    backing_off.refresh_from_db()
    assert (backing_off.queue_batch_operation_id, backing_off.queue_after, backing_off.status) == (
        operation.pk,
        None,
        "created",
    )
    assert PhoneCall.objects.get(pk=other.pk).queue_batch_operation_id is None
    assert kicked == [account.pk]
    assert listed_ids(client_for.get(f"/api/batch_operations/{operation.pk}/phone_calls")) == [backing_off.pk]


def test_queued_calls_are_dialled_by_the_dispatcher(
    fake_twilio, client_for, account, django_capture_on_commit_callbacks
):
    account.platform_provider_name = "somleng"
    account.somleng_account_sid, account.somleng_auth_token = fake_twilio.account_sid, fake_twilio.auth_token
    account.somleng_api_base_url = fake_twilio.base_url
    account.settings = {"from_phone_number": "1234", "max_calls_per_second": 0}
    account.save()
    call = PhoneCallFactory(
        callout_participation__callout=CalloutFactory(account=account, status="running"),
        queue_after=timezone.now() + timedelta(hours=1),
    )
    operation = created(client_for, QUEUE)

    run(client_for, operation["id"], django_capture_on_commit_callbacks)

    call.refresh_from_db()
    assert (call.status, call.queue_batch_operation_id) == ("remotely_queued", operation["id"])
    assert call.dispatched_at is not None
    assert fake_twilio.dials_by_phone_call_id() == {str(call.pk): 1}


def test_queue_remote_fetch_enqueues_a_status_fetch_per_previewed_call(
    client_for, account, django_capture_on_commit_callbacks, monkeypatch
):
    fetched = []
    monkeypatch.setattr(
        "phone_calls.polling.phone_call_fetch_remote", lambda *, phone_call_id: fetched.append(phone_call_id)
    )
    callout = CalloutFactory(account=account)
    calls = [
        PhoneCallFactory(callout_participation__callout=callout, status=status, remote_call_id=f"CA{index}")
        for index, status in enumerate(["remotely_queued", "in_progress", "completed"])
    ]
    operation = created(client_for, FETCH, phone_call_filter_params={"status": "remotely_queued,in_progress"})

    operation = run(client_for, operation["id"], django_capture_on_commit_callbacks)

    assert operation.processed_count == 2
    assert sorted(fetched) == [calls[0].pk, calls[1].pk]
    for call in calls[:2]:
        call.refresh_from_db()
        assert call.queue_remote_fetch_batch_operation_id == operation.pk
        assert call.remote_status_fetch_queued_at is not None
    assert sorted(listed_ids(client_for.get(f"/api/batch_operations/{operation.pk}/phone_calls"))) == [
        calls[0].pk,
        calls[1].pk,
    ]


def test_results_of_a_population_have_no_phone_calls(client_for, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    assert listed_ids(client_for.get(f"/api/batch_operations/{operation.pk}/phone_calls")) == []


def test_contact_for_the_preview_is_not_listed_twice_when_in_two_callouts(client_for, account):
    contact = ContactFactory(account=account)
    for _ in range(2):
        CalloutParticipationFactory(callout=CalloutFactory(account=account), contact=contact)
    operation = created(client_for, CREATE, remote_request_params=REMOTE_REQUEST_PARAMS)
    assert listed_ids(client_for.get(f"/api/batch_operations/{operation['id']}/preview/contacts")) == [contact.pk]


def test_results_of_a_phone_call_create_list_the_participations_it_called(
    client_for, account, django_capture_on_commit_callbacks
):
    callout = CalloutFactory(account=account)
    called = [CalloutParticipationFactory(callout=callout) for _ in range(2)]
    busy = CalloutParticipationFactory(callout=callout)
    PhoneCallFactory(callout_participation=busy)
    operation = created(client_for, CREATE, remote_request_params=REMOTE_REQUEST_PARAMS)
    run(client_for, operation["id"], django_capture_on_commit_callbacks)

    response = client_for.get(f"/api/batch_operations/{operation['id']}/callout_participations")

    assert sorted(listed_ids(response)) == sorted(p.pk for p in called)


def form(client, url, body):
    return client.generic("POST", url, body, content_type="application/x-www-form-urlencoded")


def test_rest_api_v2_queue_of_a_stopped_callouts_created_calls_queues_the_previewed_call(
    fake_twilio, client_for, account, django_capture_on_commit_callbacks
):
    # rest-api-v2.md "Batch Operations": PhoneCallCreate, then PhoneCallQueue with
    # callout_filter_params[status]=stopped, phone_call_filter_params[status]=created and limit=1, as curl -d sends them
    account.platform_provider_name = "somleng"
    account.somleng_account_sid, account.somleng_auth_token = fake_twilio.account_sid, fake_twilio.auth_token
    account.somleng_api_base_url = fake_twilio.base_url
    account.settings = {"from_phone_number": "1234", "max_calls_per_second": 0}
    account.save()
    stopped = CalloutFactory(account=account, status="stopped")
    participations = [CalloutParticipationFactory(callout=stopped) for _ in range(2)]
    CalloutParticipationFactory(callout=CalloutFactory(account=account, status="running"))

    create_body = (
        f"type={CREATE}&parameters[callout_filter_params][status]=stopped"
        "&parameters[remote_request_params][from]=1234"
        "&parameters[remote_request_params][url]=https%3A%2F%2Fdemo.twilio.com%2Fdocs%2Fvoice.xml"
        "&parameters[remote_request_params][method]=GET&parameters[limit]=30"
    )
    creation = form(client_for, "/api/batch_operations", create_body)
    assert creation.status_code == 201, creation.json()
    assert run(client_for, creation.json()["id"], django_capture_on_commit_callbacks).processed_count == 2
    calls = list(PhoneCall.objects.filter(callout=stopped).order_by("pk"))
    assert [(call.callout_participation_id, call.status) for call in calls] == [
        (p.pk, "created") for p in participations
    ]

    queue_body = (
        f"type={QUEUE}&parameters[callout_filter_params][status]=stopped"
        "&parameters[phone_call_filter_params][status]=created&parameters[limit]=1"
    )
    queueing = form(client_for, "/api/batch_operations", queue_body)
    assert queueing.status_code == 201, queueing.json()
    operation = f"/api/batch_operations/{queueing.json()['id']}"
    preview = client_for.get(f"{operation}/preview/phone_calls")
    assert (preview["Total"], listed_ids(preview)) == ("1", [calls[0].pk])

    done = run(client_for, queueing.json()["id"], django_capture_on_commit_callbacks)

    assert (done.status, done.processed_count) == ("finished", 1)
    first, second = (PhoneCall.objects.get(pk=call.pk) for call in calls)
    assert (first.status, first.queue_batch_operation_id) == ("remotely_queued", done.pk)
    assert (second.status, second.queue_batch_operation_id) == ("created", None)
    [dial] = fake_twilio.create_requests()  # the operation's remote_request_params name the TwiML url
    assert (dial.value("To"), dial.value("From"), dial.value("Url")) == (
        first.msisdn,
        "1234",
        "https://demo.twilio.com/docs/voice.xml",
    )
    assert listed_ids(client_for.get(f"{operation}/phone_calls")) == [first.pk]
    assert listed_ids(client_for.get(f"{operation}/preview/phone_calls")) == [second.pk]  # limit 1: the next one


def test_queue_dials_a_stopped_callouts_call_only_once_when_run_again(
    fake_twilio, client_for, account, django_capture_on_commit_callbacks
):
    account.platform_provider_name = "somleng"
    account.somleng_account_sid, account.somleng_auth_token = fake_twilio.account_sid, fake_twilio.auth_token
    account.somleng_api_base_url = fake_twilio.base_url
    account.settings = {"from_phone_number": "1234"}
    account.save()
    call = PhoneCallFactory(callout_participation__callout=CalloutFactory(account=account, status="stopped"))
    waiting = PhoneCallFactory(callout_participation=call.callout_participation)
    operation = created(client_for, QUEUE, callout_filter_params={"status": "stopped"})

    run(client_for, operation["id"], django_capture_on_commit_callbacks)
    again = run(client_for, operation["id"], django_capture_on_commit_callbacks, event="requeue")

    assert again.processed_count == 0  # `waiting` waits: its participation has a call in flight
    assert PhoneCall.objects.get(pk=call.pk).status == "remotely_queued"
    assert PhoneCall.objects.get(pk=waiting.pk).status == "created"
    assert fake_twilio.dials_by_phone_call_id() == {str(call.pk): 1}


# The family for PhoneCallCreate (the batch is the dialler's, not a user's single call): a participation whose call
# waits in `created` or is in flight gets no other; one whose calls have all ended gets the next.
@pytest.mark.parametrize(
    ("status", "gets_a_call"),
    [
        ("created", False),
        ("queued", False),
        ("remotely_queued", False),
        ("in_progress", False),
        ("failed", True),
        ("completed", True),
        ("expired", True),
    ],
)
def test_phone_call_create_adds_no_call_beside_a_waiting_or_in_flight_one(
    client_for, account, django_capture_on_commit_callbacks, status, gets_a_call
):
    call = PhoneCallFactory(callout_participation__callout=CalloutFactory(account=account), status=status)
    operation = created(
        client_for, CREATE, remote_request_params=REMOTE_REQUEST_PARAMS, skip_validate_preview_presence=True
    )
    assert run(client_for, operation["id"], django_capture_on_commit_callbacks).processed_count == int(gets_a_call)
    assert PhoneCall.objects.filter(callout_participation=call.callout_participation_id).count() == 1 + gets_a_call
