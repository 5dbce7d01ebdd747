"""The API fuzzed from its own OpenAPI schema (schemathesis): no generated request may get a 5xx, and every response
conforms to the schema — its status code is documented for the operation, and its content type, required headers
(`Per-Page`, `Total`, `Location`) and body match what the schema declares (CHECKS).

Every operation of /api/schema — including each list's declared `page`, `per_page`, `sort` and `q[...]` filters
(scfm.api.schema) and the provider webhooks — gets requests that follow the schema (positive) and requests that break
it (negative), with a super-admin token and with an ordinary account's token, against PostgreSQL. About 2,700
requests in all (13 per operation and token); RUNS keeps the run under about two minutes. The webhooks, which a
fuzzer cannot sign, also get signed requests below.
"""

from urllib.parse import urlencode

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis import checks as st_checks
from schemathesis.core.failures import FailureGroup
from twilio.request_validator import RequestValidator

from tests.factories import (
    AccessTokenFactory,
    AccountFactory,
    BatchOperationFactory,
    CalloutFactory,
    CalloutParticipationFactory,
    PhoneCallFactory,
    UserFactory,
)
from tests.phone_calls.webhook_helpers import TWILIO_TOKEN, callback_params, outbound_call, provider_account

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# (mode, whether ids in the path name the caller's real rows, examples per operation): most examples reach real
# rows, so bodies and query strings get past the 404 into serializers, services and selectors
RUNS = [(GenerationMode.POSITIVE, True, 6), (GenerationMode.NEGATIVE, True, 5), (GenerationMode.POSITIVE, False, 2)]
ID_RESOURCES = {"account_id": "accounts", "callout_population_id": "callout_populations"}


def _real_ids(account) -> dict[str, int]:
    """One row of each resource in `account`, by the URL prefix that names it."""
    call = PhoneCallFactory(
        callout_participation=CalloutParticipationFactory(callout=CalloutFactory(account=account)),
    )
    population = BatchOperationFactory(callout=call.callout, parameters={"contact_filter_params": {}})
    return {
        "accounts": account.pk,
        "access_tokens": AccessTokenFactory(account=account).pk,
        "users": UserFactory(account=account).pk,
        "contacts": call.contact_id,
        "callouts": call.callout_id,
        "callout_participations": call.callout_participation_id,
        "phone_calls": call.pk,
        "batch_operations": population.pk,
        "callout_populations": population.pk,
    }


def _path_parameters(operation, ids: dict[str, int]) -> dict[str, int] | None:
    """The real ids for every path parameter of `operation`; None when one of them names no known resource."""
    resource = operation.path.split("/")[2]
    pinned = {}
    for parameter in operation.definition.raw.get("parameters", []):
        if parameter["in"] != "path":
            continue
        name = parameter["name"]
        key = resource if name == "id" else ID_RESOURCES.get(name, name.removesuffix("_id") + "s")
        if key not in ids:
            return None
        pinned[name] = ids[key]
    return pinned


@pytest.fixture(scope="module")
def schema():
    """The schema as /api/schema serves it, bound to the WSGI application (requests run in-process, inside the
    test's transaction: like Django's test client, the requests leave the connection open)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


# what every response must satisfy: no 5xx, and its status code, content type, headers and body as the schema says
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_headers_conformance,
    st_checks.response_schema_conformance,
]


def _fuzz(schema, token: str, ids: dict[str, int]) -> list[str]:
    """Every operation fuzzed in each of RUNS with `token`; the requests whose responses failed CHECKS, described."""
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    for operation in _operations(schema):
        for mode, pin, examples in RUNS:
            path_parameters = _path_parameters(operation, ids) if pin else None
            if pin and not path_parameters:
                continue
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

            @given(case=strategy)
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                response = case.call(headers=headers)
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except FailureGroup as group:
                    for failure in group.exceptions:
                        failures.append(
                            f"{failure.title}: {response.status_code} {case.method} {case.operation.path} | "
                            f"{case.formatted_path} query={case.query!r} body={case.body!r} | "
                            + " ".join(failure.message.split())[:300]
                        )

            run()
    return failures


@pytest.mark.parametrize("role", ["super_admin", "ordinary"])
def test_every_response_conforms_to_the_schema_when_fuzzing_it(require_postgresql, schema, make_client, role):
    account = AccountFactory(permissions=["super_admin"]) if role == "super_admin" else AccountFactory()
    client = make_client(account)

    failures = _fuzz(schema, client.token.token, _real_ids(account))

    assert failures == []


def test_schema_declares_page_per_page_sort_and_filters_when_an_operation_is_a_list(schema):
    def query_names(operation):
        return {parameter["name"] for parameter in operation.definition.raw.get("parameters", [])}

    operations = {operation.definition.raw["operationId"]: operation for operation in _operations(schema)}
    lists = [operation for operation_id, operation in operations.items() if operation_id.endswith("_list")]
    assert len(lists) >= 30
    for operation in lists:
        assert {"page", "per_page", "sort"} <= query_names(operation), operation.path
        assert any(name.startswith("q[") for name in query_names(operation)), operation.path
    pages = [operation for operation_id, operation in operations.items() if "preview" in operation_id]
    assert len(pages) == 4
    for operation in pages:
        assert {"page", "per_page", "sort"} <= query_names(operation), operation.path


def _signed_webhook_case(schema, path: str, params: dict, query: dict | None = None):
    """A case of the webhook operation at `path`, signed as the provider signs it (the URL under SCFM_PUBLIC_URL)."""
    url = django_settings.SCFM_PUBLIC_URL + path + (f"?{urlencode(query)}" if query else "")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    return schema[path]["POST"].Case(
        query=query, body=params, headers={"X-Twilio-Signature": signature}, media_type=FORM_CONTENT_TYPE
    )


@pytest.mark.parametrize("path", ["/twilio_webhooks/phone_call_events", "/api/remote_phone_call_events"])
def test_a_signed_provider_callback_gets_the_twiml_the_schema_documents(db, schema, path):
    call = outbound_call(provider_account())
    case = _signed_webhook_case(schema, path, callback_params(CallStatus="in-progress"), {"phone_call_id": call.pk})

    response = case.call()

    assert response.status_code == 200
    assert response.headers["content-type"][0].startswith("text/xml")
    case.validate_response(response, checks=CHECKS)


def test_a_signed_recording_callback_gets_the_204_the_schema_documents(db, schema):
    outbound_call(provider_account(), call_sid="CA1")
    params = {**callback_params(), "RecordingSid": "RE1", "RecordingUrl": "https://api.twilio.com/RE1"}
    case = _signed_webhook_case(schema, "/twilio_webhooks/recording_status_callbacks", params)

    response = case.call()

    assert response.status_code == 204
    case.validate_response(response, checks=CHECKS)


def test_an_unsigned_provider_callback_gets_the_403_the_schema_documents(db, schema):
    case = schema["/twilio_webhooks/phone_call_events"]["POST"].Case(
        body=callback_params(), media_type=FORM_CONTENT_TYPE
    )

    response = case.call()

    assert response.status_code == 403
    case.validate_response(response, checks=CHECKS)
