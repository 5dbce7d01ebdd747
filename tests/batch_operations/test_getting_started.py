"""getting-started.md, from "Managing Callouts" to "Repopulating", replayed against the API."""

from tests.api_cases import listed_ids
from tests.factories import ContactFactory


def test_getting_started_walkthrough(client_for, account, django_capture_on_commit_callbacks):
    api = client_for
    alice = ContactFactory(account=account, msisdn="+252662345678", metadata={"name": "Alice", "gender": "f"})
    bob = ContactFactory(account=account, msisdn="+252662345679", metadata={"name": "Bob", "gender": "m"})

    # Managing Callouts / Creating
    callout = api.post("/api/callouts")
    assert callout.status_code == 201
    assert callout.json()["status"] == "initialized"
    callout_id = callout.json()["id"]

    # Populating a Callout / Create a Callout Population
    population = api.generic(
        "POST",
        f"/api/callouts/{callout_id}/batch_operations",
        "type=BatchOperation::CalloutPopulation",
        content_type="application/x-www-form-urlencoded",
    )
    assert population.status_code == 201
    assert population.json()["parameters"] == {}
    assert population.json()["status"] == "preview"
    operation = f"/api/batch_operations/{population.json()['id']}"
    preview = api.get(f"{operation}/preview/contacts")
    assert preview["Total"] == "2"
    assert sorted(listed_ids(preview)) == [alice.pk, bob.pk]

    # Limiting the contacts who will participate in the callout
    limited = api.generic(
        "PATCH",
        operation,
        "parameters[contact_filter_params][metadata][gender]=f",
        content_type="application/x-www-form-urlencoded",
    )
    assert limited.status_code == 204

    # Inspecting a callout population
    assert api.get(operation).json()["parameters"] == {"contact_filter_params": {"metadata": {"gender": "f"}}}
    preview = api.get(f"{operation}/preview/contacts")
    assert preview["Total"] == "1"
    assert listed_ids(preview) == [alice.pk]

    # Queuing the callout for population
    with django_capture_on_commit_callbacks(execute=True):
        queued = api.generic(
            "POST",
            f"{operation}/batch_operation_events",
            "event=queue",
            content_type="application/x-www-form-urlencoded",
        )
    assert queued.status_code == 201
    assert queued.json()["status"] == "queued"
    assert api.get(operation).json()["status"] == "finished"
    assert listed_ids(api.get(f"{operation}/contacts")) == [alice.pk]

    # Managing Callout Participations
    participations = api.get(f"/api/callouts/{callout_id}/callout_participations")
    assert participations["Total"] == "1"
    assert participations.json()[0]["contact_id"] == alice.pk
    assert participations.json()[0]["callout_population_id"] == population.json()["id"]
    assert listed_ids(api.get(f"/api/callouts/{callout_id}/contacts")) == [alice.pk]

    # Creating (Bob, directly)
    bobs = api.generic(
        "POST",
        f"/api/callouts/{callout_id}/callout_participations",
        f"contact_id={bob.pk}",
        content_type="application/x-www-form-urlencoded",
    )
    assert bobs.status_code == 201
    assert bobs.json()["msisdn"] == "+252662345679"
    assert bobs.json()["callout_population_id"] is None
    assert sorted(listed_ids(api.get(f"/api/callouts/{callout_id}/contacts"))) == [alice.pk, bob.pk]

    # Filtering
    found = api.get(f"/api/callouts/{callout_id}/callout_participations", {"q[contact_id]": alice.pk})
    assert found["Total"] == "1"
    alices_participation = found.json()[0]["id"]

    # Deleting
    assert api.delete(f"/api/callout_participations/{alices_participation}").status_code == 204
    assert listed_ids(api.get(f"/api/callouts/{callout_id}/contacts")) == [bob.pk]

    # Repopulating
    assert api.get(operation).json()["status"] == "finished"
    assert listed_ids(api.get(f"{operation}/preview/contacts")) == [alice.pk]
    with django_capture_on_commit_callbacks(execute=True):
        requeued = api.post(f"{operation}/batch_operation_events", {"event": "requeue"})
    assert requeued.status_code == 201
    assert requeued.json()["status"] == "queued"
    assert api.get(operation).json()["status"] == "finished"
    assert listed_ids(api.get(f"{operation}/contacts")) == [alice.pk]
    in_callout = api.get(f"/api/callouts/{callout_id}/contacts")
    assert in_callout["Total"] == "2"
    assert sorted(listed_ids(in_callout)) == [alice.pk, bob.pk]
