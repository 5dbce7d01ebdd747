"""A callout's lists with their `Total` from the counters, and the per-minute statistics series endpoint."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Permission
from batch_operations.callout_population import CalloutPopulation
from batch_operations.models import BatchOperation
from callouts import counters
from callouts.models import CalloutParticipation
from phone_calls import lifecycle
from phone_calls.models import PhoneCall
from tests.factories import BatchOperationFactory, CalloutFactory, ContactFactory

pytestmark = pytest.mark.django_db


def populated_callout(account, size=4):
    callout = CalloutFactory(account=account)
    for _ in range(size):
        ContactFactory(account=account)
    operation = BatchOperationFactory(
        account=account, callout=callout, type=BatchOperation.Type.CALLOUT_POPULATION, parameters={}
    )
    BatchOperation.objects.filter(pk=operation.pk).update(status="running")
    CalloutPopulation().populate_next_chunk(operation.pk, 100)
    return callout


def answer(call: PhoneCall) -> None:
    PhoneCall.objects.filter(pk=call.pk).update(status="in_progress")
    counters.call_moved(call.callout_id, "created", "in_progress")
    lifecycle.phone_call_record_remote_status(phone_call_id=call.pk, remote_status="completed")


def test_callout_calls_by_status_newest_first_take_total_from_counters(client_for, account, django_assert_num_queries):
    callout = populated_callout(account)
    calls = list(PhoneCall.objects.filter(callout=callout).order_by("id"))
    answer(calls[0])
    answer(calls[2])

    # token, parent callout, counters, page: no COUNT over the calls
    with django_assert_num_queries(4):
        response = client_for.get(f"/api/callouts/{callout.pk}/phone_calls", {"q[status]": "completed"})
    assert response.status_code == 200
    assert response["Total"] == "2"
    assert [row["id"] for row in response.json()] == [calls[2].pk, calls[0].pk]

    with django_assert_num_queries(4):
        response = client_for.get(f"/api/callouts/{callout.pk}/phone_calls", {"per_page": 1})
    assert response["Total"] == "4"


def test_callout_calls_filtered_beyond_status_are_counted_from_rows(client_for, account, django_assert_num_queries):
    callout = populated_callout(account)
    call = PhoneCall.objects.filter(callout=callout).first()

    with django_assert_num_queries(4):  # token, parent, COUNT, page
        response = client_for.get(f"/api/callouts/{callout.pk}/phone_calls", {"q[msisdn]": call.msisdn})
    assert response["Total"] == "1"


def test_callout_participations_take_total_from_counters(client_for, account, django_assert_num_queries):
    callout = populated_callout(account, size=3)
    answer(PhoneCall.objects.filter(callout=callout).first())

    with django_assert_num_queries(4):
        response = client_for.get(f"/api/callouts/{callout.pk}/callout_participations")
    assert response["Total"] == "3"
    ids = list(CalloutParticipation.objects.filter(callout=callout).order_by("-id").values_list("id", flat=True))
    assert [row["id"] for row in response.json()] == ids
    with django_assert_num_queries(4):
        response = client_for.get(f"/api/callouts/{callout.pk}/callout_participations", {"q[answered]": "false"})
    assert response["Total"] == "2"
    assert len(response.json()) == 2


def test_series_counts_each_minute_and_carries_totals(client_for, account, django_assert_max_num_queries):
    callout = populated_callout(account, size=3)
    answer(PhoneCall.objects.filter(callout=callout).first())
    now = timezone.now()

    with django_assert_max_num_queries(4):
        response = client_for.get(
            f"/api/callouts/{callout.pk}/callout_statistics/series",
            {"from": (now - timedelta(minutes=4)).isoformat(), "to": now.isoformat()},
        )
    assert response.status_code == 200
    body = response.json()
    assert body["interval"] == "minute"
    assert len(body["data"]) == 5
    last = body["data"][-1]
    assert last["answered"] == 1
    assert last["participations_answered"] == 1
    assert body["data"][0]["participations_answered"] == 0


def test_series_rejects_a_bad_range(client_for, account):
    callout = CalloutFactory(account=account)
    url = f"/api/callouts/{callout.pk}/callout_statistics/series"
    assert client_for.get(url, {"from": "yesterday"}).status_code == 422
    assert client_for.get(url, {"from": "2026-11-30T10:00:00Z", "to": "2026-11-30T09:00:00Z"}).status_code == 422
    assert client_for.get(url, {"from": "2026-11-01T00:00:00Z", "to": "2026-11-30T00:00:00Z"}).status_code == 422


def test_series_needs_credentials_permission_and_tenancy(anonymous, make_client, account, other_account):
    callout = CalloutFactory(account=account)
    url = f"/api/callouts/{callout.pk}/callout_statistics/series"
    assert anonymous.get(url).status_code == 401
    assert make_client(account, permissions=[Permission.CALLOUTS_WRITE]).get(url).status_code == 403
    assert make_client(other_account).get(url).status_code == 404


@pytest.mark.parametrize("size", [2, 30])
def test_statistics_and_series_cost_the_same_queries_whatever_the_callout_size(
    client_for, account, django_assert_num_queries, size
):
    callout = populated_callout(account, size=size)
    answer(PhoneCall.objects.filter(callout=callout).first())

    with django_assert_num_queries(3):  # token, the callout (with its account), the counters
        response = client_for.get(f"/api/callouts/{callout.pk}/callout_statistics")
    assert response.status_code == 200
    assert response.json()["callout_participations"] == size
    assert response.json()["calls_completed"] == 1
    with django_assert_num_queries(4):  # token, the callout, the minutes, the cumulative totals
        response = client_for.get(f"/api/callouts/{callout.pk}/callout_statistics/series")
    assert response.status_code == 200
    assert response.json()["data"][-1]["answered"] == 1


def test_series_rejections_carry_the_errors_shape(client_for, account):
    callout = CalloutFactory(account=account)
    response = client_for.get(f"/api/callouts/{callout.pk}/callout_statistics/series", {"to": "soon"})
    assert response.status_code == 422
    assert response.json() == {"errors": {"to": ["is not an ISO 8601 time"]}}


def test_the_schema_declares_the_statistics_and_the_series(anonymous):
    schema = anonymous.get("/api/schema", {"format": "json"}).json()
    series = schema["paths"]["/api/callouts/{id}/callout_statistics/series"]["get"]
    assert {p["name"] for p in series["parameters"]} == {"id", "from", "to"}
    assert {"200", "401", "403", "404", "422"} <= set(series["responses"])
    points = schema["components"]["schemas"]["CalloutStatisticsSeriesPoint"]["properties"]
    assert set(points) == {"minute", *counters.SERIES_KEYS}
    statistics = schema["paths"]["/api/callouts/{id}/callout_statistics"]["get"]["responses"]["200"]
    assert statistics["content"]["application/json"]["schema"]["$ref"].endswith("/CalloutStatistics")
