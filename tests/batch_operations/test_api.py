import pytest

from accounts.models import Permission
from batch_operations.models import BatchOperation
from callouts.models import CalloutParticipation
from phone_calls.models import PhoneCall
from tests.api_cases import ResourceAPICases, listed_ids
from tests.factories import BatchOperationFactory, CalloutFactory, CalloutParticipationFactory, ContactFactory

POPULATION = "BatchOperation::CalloutPopulation"
FILTER = {
    "metadata": {
        "gender": "f",
        "date_of_birth.date.gteq": "2022-01-01",
        "date_of_birth.date.lt": "2022-02-01",
        "deregistered_at.exists": False,
    }
}


class TestBatchOperationsAPI(ResourceAPICases):
    list_url = "/api/batch_operations"
    resource = "batch_operations"

    def make(self, account):
        return BatchOperationFactory(callout=CalloutFactory(account=account))


class TestCalloutPopulationsAPI(ResourceAPICases):
    list_url = "/api/callout_populations"
    resource = "batch_operations"

    def make(self, account):
        return BatchOperationFactory(callout=CalloutFactory(account=account))


def populate(client, operation_id, event="queue", capture=None):
    with capture(execute=True):
        response = client.post(f"/api/batch_operations/{operation_id}/batch_operation_events", {"event": event})
    assert response.status_code == 201, response.json()
    return response


# --- create -------------------------------------------------------------------------------------------------------


def test_create_population_with_callout_in_body(client_for, account):
    callout = CalloutFactory(account=account)
    response = client_for.post(
        "/api/batch_operations",
        {
            "callout_id": callout.pk,
            "metadata": {"foo": "bar"},
            "parameters": {"contact_filter_params": FILTER},
            "type": POPULATION,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["Location"] == f"/api/batch_operations/{body['id']}"
    assert body["callout_id"] == callout.pk
    assert body["parameters"] == {"contact_filter_params": FILTER}
    assert body["metadata"] == {"foo": "bar"}
    assert body["status"] == "preview"
    assert body["type"] == POPULATION
    assert body["account_id"] == account.pk
    assert body["processed_count"] == 0


def test_create_population_under_a_callout_with_a_form_body(client_for, account):
    callout = CalloutFactory(account=account)
    response = client_for.generic(
        "POST",
        f"/api/callouts/{callout.pk}/batch_operations",
        f"type={POPULATION}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201
    assert response.json()["callout_id"] == callout.pk
    assert response.json()["parameters"] == {}


def test_create_merges_the_accounts_default_parameters_underneath(client_for, account):
    account.settings = {
        **account.settings,
        "batch_operation_callout_population_parameters": {
            "contact_filter_params": {"metadata": {"gender": "m", "language": "km"}}
        },
    }
    account.save()
    callout = CalloutFactory(account=account)
    response = client_for.post(
        f"/api/callouts/{callout.pk}/batch_operations",
        {"type": POPULATION, "parameters": {"contact_filter_params": {"metadata": {"gender": "f"}}}},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["parameters"] == {"contact_filter_params": {"metadata": {"gender": "f", "language": "km"}}}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"type": ["can't be blank"]}),
        ({"type": "BatchOperation::Nope"}, {"type": ["is not included in the list"]}),
        ({"type": POPULATION, "callout_id": None}, {"callout": ["must exist"]}),
        ({"type": POPULATION, "parameters": "x"}, {"parameters": ["must be a hash"]}),
    ],
)
def test_create_with_bad_input_is_unprocessable(client_for, account, body, errors):
    response = client_for.post("/api/batch_operations", body, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": errors}


def test_create_for_another_accounts_callout_is_unprocessable(client_for, other_account):
    callout = CalloutFactory(account=other_account)
    response = client_for.post("/api/batch_operations", {"type": POPULATION, "callout_id": callout.pk}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"callout": ["must exist"]}}


def test_create_under_another_accounts_callout_is_not_found(client_for, other_account):
    callout = CalloutFactory(account=other_account)
    response = client_for.post(f"/api/callouts/{callout.pk}/batch_operations", {"type": POPULATION}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "contact_filter_params",
    [
        {"metadata": {"date_of_birth.date.gt": "yesterday"}},
        {"metadata": {"age.gt": "old"}},
        {"no_such_filter": "1"},
        {"created_at_after": "not-a-date"},
        "flat",
    ],
)
def test_create_with_a_bad_contact_filter_is_unprocessable(client_for, account, contact_filter_params):
    callout = CalloutFactory(account=account)
    response = client_for.post(
        f"/api/callouts/{callout.pk}/batch_operations",
        {"type": POPULATION, "parameters": {"contact_filter_params": contact_filter_params}},
        format="json",
    )
    assert response.status_code == 422, response.json()
    assert list(response.json()["errors"]) == ["contact_filter_params"]


def test_create_needs_write_permission(make_client, account):
    callout = CalloutFactory(account=account)
    client = make_client(account, permissions=[Permission.BATCH_OPERATIONS_READ])
    response = client.post(f"/api/callouts/{callout.pk}/batch_operations", {"type": POPULATION}, format="json")
    assert response.status_code == 403


# --- show, update, delete, filters -----------------------------------------------------------------------------------


def test_show(client_for, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    response = client_for.get(f"/api/batch_operations/{operation.pk}")
    assert response.status_code == 200
    assert response["Location"] == f"/api/batch_operations/{operation.pk}"
    assert response.json()["status"] == "preview"


def test_update_replaces_parameters_and_applies_merge_mode(client_for, account):
    operation = BatchOperationFactory(
        callout=CalloutFactory(account=account),
        parameters={"contact_filter_params": {"msisdn": "1"}},
        metadata={"a": 1},
    )
    response = client_for.patch(
        f"/api/batch_operations/{operation.pk}",
        {
            "metadata": {"foo": "bar", "bar": "foo"},
            "parameters": {"contact_filter_params": {"metadata": {"foo": "bar"}}},
            "metadata_merge_mode": "replace",
        },
        format="json",
    )
    assert response.status_code == 204
    assert response["Location"] == f"/api/batch_operations/{operation.pk}"
    operation.refresh_from_db()
    assert operation.parameters == {"contact_filter_params": {"metadata": {"foo": "bar"}}}
    assert operation.metadata == {"foo": "bar", "bar": "foo"}


def test_update_with_a_bad_contact_filter_is_unprocessable(client_for, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    response = client_for.patch(
        f"/api/batch_operations/{operation.pk}",
        {"parameters": {"contact_filter_params": {"metadata": {"age.gt": "x"}}}},
        format="json",
    )
    assert response.status_code == 422
    assert "contact_filter_params" in response.json()["errors"]


def test_update_of_parameters_while_queued_is_unprocessable(client_for, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account), queued=True)
    response = client_for.patch(f"/api/batch_operations/{operation.pk}", {"parameters": {}}, format="json")
    assert response.status_code == 422
    assert "parameters" in response.json()["errors"]


def test_delete(client_for, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    response = client_for.delete(f"/api/batch_operations/{operation.pk}")
    assert response.status_code == 204
    assert response["Location"] == "/api/batch_operations"
    assert not BatchOperation.objects.filter(pk=operation.pk).exists()


def test_delete_is_refused_once_it_created_participations(client_for, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    CalloutParticipationFactory(callout=operation.callout, callout_population=operation)
    response = client_for.delete(f"/api/batch_operations/{operation.pk}")
    assert response.status_code == 422
    assert response.json() == {
        "errors": {"base": ["Cannot delete record because dependent callout participations exist"]}
    }


def test_delete_of_another_accounts_operation_is_not_found(client_for, other_account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=other_account))
    assert client_for.delete(f"/api/batch_operations/{operation.pk}").status_code == 404


def test_filters(client_for, account):
    callout = CalloutFactory(account=account)
    female = BatchOperationFactory(callout=callout, parameters={"contact_filter_params": {"metadata": {"gender": "f"}}})
    other = BatchOperationFactory(callout=CalloutFactory(account=account))
    BatchOperation.objects.filter(pk=other.pk).update(status="finished")

    def ids(url):
        return sorted(listed_ids(client_for.get(url)))

    assert ids(f"/api/batch_operations?q[callout_id]={callout.pk}") == [female.pk]
    assert ids("/api/batch_operations?q[status]=finished") == [other.pk]
    assert ids("/api/batch_operations?status=preview") == [female.pk]
    assert ids(f"/api/batch_operations?q[type]={POPULATION}") == sorted([female.pk, other.pk])
    assert ids("/api/batch_operations?q[parameters][contact_filter_params][metadata][gender]=f") == [female.pk]
    assert ids("/api/callout_populations?contact_filter_params[metadata][gender]=f") == [female.pk]
    assert ids(f"/api/callouts/{callout.pk}/batch_operations") == [female.pk]
    assert ids(f"/api/callouts/{callout.pk}/callout_populations") == [female.pk]
    assert ids("/api/batch_operations?q[created_at_after]=2000-01-01") == sorted([female.pk, other.pk])


# --- preview and events ------------------------------------------------------------------------------------------


def test_preview_lists_matching_contacts_not_yet_in_the_callout(client_for, account, other_account):
    callout = CalloutFactory(account=account)
    alice = ContactFactory(account=account, metadata={"gender": "f"})
    ContactFactory(account=account, metadata={"gender": "m"})
    already_in = ContactFactory(account=account, metadata={"gender": "f"})
    CalloutParticipationFactory(callout=callout, contact=already_in)
    ContactFactory(account=other_account, metadata={"gender": "f"})
    operation = BatchOperationFactory(
        callout=callout, parameters={"contact_filter_params": {"metadata": {"gender": "f"}}}
    )
    response = client_for.get(f"/api/batch_operations/{operation.pk}/preview/contacts")
    assert response.status_code == 200
    assert response["Total"] == "1"
    assert [item["id"] for item in response.json()] == [alice.pk]


def test_preview_is_paginated(client_for, account):
    callout = CalloutFactory(account=account)
    for _ in range(30):
        ContactFactory(account=account)
    operation = BatchOperationFactory(callout=callout)
    response = client_for.get(f"/api/batch_operations/{operation.pk}/preview/contacts", {"per_page": 10, "page": 2})
    assert response["Total"] == "30"
    assert len(response.json()) == 10
    assert 'rel="next"' in response["Link"]


def test_preview_needs_contacts_read(make_client, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    client = make_client(account, permissions=[Permission.BATCH_OPERATIONS_READ])
    assert client.get(f"/api/batch_operations/{operation.pk}/preview/contacts").status_code == 403


def test_preview_of_another_accounts_operation_is_not_found(client_for, other_account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=other_account))
    assert client_for.get(f"/api/batch_operations/{operation.pk}/preview/contacts").status_code == 404


def test_queue_populates_the_callout(client_for, account, django_capture_on_commit_callbacks):
    callout = CalloutFactory(account=account, call_flow_logic="CallFlowLogic::PlayMessage")
    women = [ContactFactory(account=account, metadata={"gender": "f"}) for _ in range(3)]
    ContactFactory(account=account, metadata={"gender": "m"})
    operation = BatchOperationFactory(
        callout=callout, parameters={"contact_filter_params": {"metadata": {"gender": "f"}}}
    )

    response = populate(client_for, operation.pk, capture=django_capture_on_commit_callbacks)
    assert response.json()["status"] == "queued"
    assert response["Location"] == f"/api/batch_operations/{operation.pk}"

    shown = client_for.get(f"/api/batch_operations/{operation.pk}").json()
    assert shown["status"] == "finished"
    assert shown["processed_count"] == 3
    participations = CalloutParticipation.objects.filter(callout=callout)
    assert sorted(participations.values_list("contact_id", flat=True)) == sorted(c.pk for c in women)
    assert set(participations.values_list("callout_population_id", "phone_calls_count", "call_flow_logic")) == {
        (operation.pk, 1, "CallFlowLogic::PlayMessage")
    }
    calls = PhoneCall.objects.filter(callout=callout)
    assert calls.count() == 3
    assert set(calls.values_list("status", "account_id")) == {("created", account.pk)}
    assert {(c.contact_id, c.msisdn) for c in calls} == {(c.pk, c.msisdn) for c in women}
    results = client_for.get(f"/api/batch_operations/{operation.pk}/callout_participations")
    assert results["Total"] == "3"
    assert client_for.get(f"/api/batch_operations/{operation.pk}/contacts")["Total"] == "3"


@pytest.mark.parametrize(("status", "event"), [("preview", "requeue"), ("queued", "queue"), ("finished", "queue")])
def test_event_not_allowed_from_the_status_is_unprocessable(client_for, account, status, event):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    BatchOperation.objects.filter(pk=operation.pk).update(status=status)
    response = client_for.post(f"/api/batch_operations/{operation.pk}/batch_operation_events", {"event": event})
    assert response.status_code == 422
    assert response.json() == {"errors": {"event": ["is not included in the list"]}}


@pytest.mark.parametrize("event", ["start", "finish", "", "nope"])
def test_internal_or_unknown_events_are_unprocessable(client_for, account, event):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    response = client_for.post(f"/api/batch_operations/{operation.pk}/batch_operation_events", {"event": event})
    assert response.status_code == 422


def test_event_needs_write_permission(make_client, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    client = make_client(account, permissions=[Permission.BATCH_OPERATIONS_READ])
    response = client.post(f"/api/batch_operations/{operation.pk}/batch_operation_events", {"event": "queue"})
    assert response.status_code == 403


def test_event_on_another_accounts_operation_is_not_found(client_for, other_account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=other_account))
    response = client_for.post(f"/api/batch_operations/{operation.pk}/batch_operation_events", {"event": "queue"})
    assert response.status_code == 404


def test_requeue_adds_only_contacts_not_yet_in_the_callout(client_for, account, django_capture_on_commit_callbacks):
    callout = CalloutFactory(account=account)
    first = ContactFactory(account=account)
    operation = BatchOperationFactory(callout=callout)
    populate(client_for, operation.pk, capture=django_capture_on_commit_callbacks)
    later = ContactFactory(account=account)

    populate(client_for, operation.pk, "requeue", capture=django_capture_on_commit_callbacks)

    assert sorted(CalloutParticipation.objects.filter(callout=callout).values_list("contact_id", flat=True)) == [
        first.pk,
        later.pk,
    ]
    assert PhoneCall.objects.filter(callout=callout).count() == 2
    operation.refresh_from_db()
    assert (operation.status, operation.processed_count) == ("finished", 2)


def test_population_skips_numbers_already_in_the_callout(client_for, account, django_capture_on_commit_callbacks):
    callout = CalloutFactory(account=account)
    taken = ContactFactory(account=account)
    manual = CalloutParticipationFactory(callout=callout, msisdn=taken.msisdn)
    operation = BatchOperationFactory(callout=callout)
    populate(client_for, operation.pk, capture=django_capture_on_commit_callbacks)
    assert list(CalloutParticipation.objects.filter(callout=callout).values_list("pk", flat=True)) == [manual.pk]
    assert not PhoneCall.objects.exists()


# --- v1 callout populations ---------------------------------------------------------------------------------------


def test_v1_callout_population_lifecycle(client_for, account, django_capture_on_commit_callbacks):
    callout = CalloutFactory(account=account)
    phnom_penh = ContactFactory(account=account, metadata={"location": "phnom penh"})
    ContactFactory(account=account, metadata={"location": "battambang"})
    created = client_for.generic(
        "POST",
        f"/api/callouts/{callout.pk}/callout_populations",
        "metadata[foo]=bar&metadata[bar]=baz&contact_filter_params[metadata][location]=phnom+penh",
        content_type="application/x-www-form-urlencoded",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert created["Location"] == f"/api/callout_populations/{body['id']}"
    assert body["contact_filter_params"] == {"metadata": {"location": "phnom penh"}}
    assert body["parameters"] == {"contact_filter_params": {"metadata": {"location": "phnom penh"}}}
    assert body["type"] == POPULATION

    population = f"/api/callout_populations/{body['id']}"
    assert [c["id"] for c in client_for.get(f"{population}/preview/contacts").json()] == [phnom_penh.pk]
    assert client_for.get(population).json()["metadata"] == {"foo": "bar", "bar": "baz"}
    assert [p["id"] for p in client_for.get("/api/callout_populations").json()] == [body["id"]]

    updated = client_for.put(
        population, {"contact_filter_params": {"metadata": {"location": "battambang"}}}, format="json"
    )
    assert updated.status_code == 204
    assert client_for.get(population).json()["contact_filter_params"] == {"metadata": {"location": "battambang"}}
    client_for.put(population, {"contact_filter_params": {"metadata": {"location": "phnom penh"}}}, format="json")

    with django_capture_on_commit_callbacks(execute=True):
        queued = client_for.post(f"{population}/callout_population_events", {"event": "queue"})
    assert queued.status_code == 201
    assert queued.json()["status"] == "queued"
    assert [c["id"] for c in client_for.get(f"{population}/contacts").json()] == [phnom_penh.pk]
    assert client_for.get(f"{population}/callout_participations")["Total"] == "1"
    assert client_for.delete(population).status_code == 422


def test_v1_callout_populations_hide_other_types(client_for, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account), type="BatchOperation::PhoneCallCreate")
    assert client_for.get(f"/api/callout_populations/{operation.pk}").status_code == 404
