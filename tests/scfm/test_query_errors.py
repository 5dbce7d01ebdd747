"""The 422 bodies of bad filters and sorts, byte for byte: on lists (`q[...]`, `sort`) and in batch-operation
parameters, where domain code uses the query kit (scfm/query/). Recorded from the API before the kit left scfm/api/;
since issue 11 an error raised while a filter is applied is held under that filter's name and the parameter that
carried it (`q` > `callout_filter_params` > `no_such_filter`), as every other filter error already was."""

import json

import pytest

from tests.factories import CalloutFactory, CalloutParticipationFactory

POPULATION = "BatchOperation::CalloutPopulation"
CREATE = "BatchOperation::PhoneCallCreate"
QUEUE = "BatchOperation::PhoneCallQueue"
TWILIO = {"remote_request_params": {"from": "1234"}}

LIST_CASES = [
    ("/api/contacts?q=flat", {"errors": {"q": ["must be a hash of filters"]}}),
    ("/api/contacts?q[no_such_filter]=1", {"errors": {"q": {"no_such_filter": ["is not a known filter"]}}}),
    (
        "/api/contacts?q[metadata][date_of_birth.date.gt]=yesterday",
        {"errors": {"q": {"metadata": ["'date_of_birth.date.gt' must be a date (YYYY-MM-DD), got 'yesterday'"]}}},
    ),
    (
        "/api/contacts?q[metadata][age.gt]=old",
        {"errors": {"q": {"metadata": ["'age.gt' must be a number, got 'old'"]}}},
    ),
    (
        "/api/contacts?q[metadata][age.date.in]=1",
        {"errors": {"q": {"metadata": ["'age.date.in': .in cannot be combined with a .date cast"]}}},
    ),
    (
        "/api/contacts?q[created_at_after]=not-a-date",
        {"errors": {"q": {"created_at_after": ["'not-a-date' is not a date or a time"]}}},
    ),
    ("/api/contacts?sort=bogus", {"errors": {"sort": ["'bogus' is not a sortable column"]}}),
    ("/api/contacts?sort=id,-nope", {"errors": {"sort": ["'nope' is not a sortable column"]}}),
    ("/api/callout_participations?q[answered]=maybe", {"errors": {"q": {"answered": ["must be true or false"]}}}),
    (
        "/api/callout_participations?q[callout_filter_params]=flat",
        {"errors": {"q": {"callout_filter_params": ["must be a hash of filters"]}}},
    ),
    (
        "/api/callout_participations?q[callout_filter_params][no_such_filter]=1",
        {"errors": {"q": {"callout_filter_params": {"no_such_filter": ["is not a known filter"]}}}},
    ),
    (
        "/api/callout_participations?q[callout_id]=a",
        {"errors": {"q": {"callout_id": ["must be a comma-separated list of ids"]}}},
    ),
    ("/api/phone_calls?q[status][a]=b", {"errors": {"q": {"status": ["must be a value or a comma-separated list"]}}}),
    ("/api/phone_calls?q[duration_gt]=x", {"errors": {"q": {"duration_gt": ["Enter a number."]}}}),
    ("/api/phone_calls?status[a]=b", {"errors": {"q": {"status": ["must be a value or a comma-separated list"]}}}),
]

PARAMETER_CASES = [
    (
        POPULATION,
        {"contact_filter_params": "flat"},
        {"errors": {"contact_filter_params": ["must be a hash of filters"]}},
    ),
    (
        POPULATION,
        {"contact_filter_params": {"no_such_filter": "1", "other": "2"}},
        {
            "errors": {
                "contact_filter_params": {
                    "no_such_filter": ["is not a known filter"],
                    "other": ["is not a known filter"],
                }
            }
        },
    ),
    (
        POPULATION,
        {"contact_filter_params": {"metadata": {"date_of_birth.date.gt": "yesterday"}}},
        {
            "errors": {
                "contact_filter_params": {
                    "metadata": ["'date_of_birth.date.gt' must be a date (YYYY-MM-DD), got 'yesterday'"]
                }
            }
        },
    ),
    (
        POPULATION,
        {"contact_filter_params": {"metadata": "flat"}},
        {"errors": {"contact_filter_params": {"metadata": ["must be a hash of filters"]}}},
    ),
    (CREATE, {"remote_request_params": "flat"}, {"errors": {"remote_request_params": ["must be a hash"]}}),
    (CREATE, {"remote_request_params": [1]}, {"errors": {"remote_request_params": ["must be a hash"]}}),
    (
        CREATE,
        {"remote_request_params": {"bogus": 1, "also": 2}},
        {"errors": {"remote_request_params": ["contains unknown Twilio call parameters: also, bogus"]}},
    ),
    (
        CREATE,
        {**TWILIO, "callout_filter_params": "flat"},
        {"errors": {"callout_filter_params": ["must be a hash of filters"]}},
    ),
    (
        CREATE,
        {**TWILIO, "callout_filter_params": {"no_such_filter": "1"}},
        {"errors": {"callout_filter_params": {"no_such_filter": ["is not a known filter"]}}},
    ),
    (
        CREATE,
        {**TWILIO, "callout_participation_filter_params": {"answered": "x"}},
        {"errors": {"callout_participation_filter_params": {"answered": ["must be true or false"]}}},
    ),
    (
        CREATE,
        {**TWILIO, "callout_participation_filter_params": {"callout_filter_params": {"no_such_filter": "1"}}},
        {
            "errors": {
                "callout_participation_filter_params": {
                    "callout_filter_params": {"no_such_filter": ["is not a known filter"]}
                }
            }
        },
    ),
    (
        QUEUE,
        {"phone_call_filter_params": {"callout_id": "a", "duration_gt": "x"}},
        {
            "errors": {
                "phone_call_filter_params": {
                    "callout_id": ["must be a comma-separated list of ids"],
                    "duration_gt": ["Enter a number."],
                }
            }
        },
    ),
    (
        QUEUE,
        {"phone_call_filter_params": "flat"},
        {"errors": {"phone_call_filter_params": ["must be a hash of filters"]}},
    ),
    (QUEUE, {"max": "-1"}, {"errors": {"max": ["must be a non-negative integer"]}}),
]


def body_of(errors: dict) -> bytes:
    return json.dumps(errors, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.mark.parametrize(("url", "errors"), LIST_CASES)
def test_bad_list_filters_are_unprocessable_with_the_same_body(client_for, url, errors):
    response = client_for.get(url)
    assert response.status_code == 422
    assert response.content == body_of(errors)


@pytest.mark.parametrize(("type", "parameters", "errors"), PARAMETER_CASES)
def test_bad_batch_operation_parameters_are_unprocessable_with_the_same_body(
    client_for, account, type, parameters, errors
):
    callout = CalloutFactory(account=account, status="running")
    CalloutParticipationFactory(callout=callout)
    response = client_for.post(
        f"/api/callouts/{callout.pk}/batch_operations", {"type": type, "parameters": parameters}, format="json"
    )
    assert response.status_code == 422
    assert response.content == body_of(errors)
