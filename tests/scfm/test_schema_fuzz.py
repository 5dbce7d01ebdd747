"""The API fuzzed from its own OpenAPI schema (schemathesis): no generated request may get a 5xx.

Every operation of /api/schema — including each list's declared `page`, `per_page`, `sort` and `q[...]` filters
(scfm.api.schema) — gets requests that follow the schema (positive) and requests that break it (negative), with a
super-admin token and with an ordinary account's token, against PostgreSQL. About 2,600 requests in all (13 per
operation and token); EXAMPLES keeps the run under about two minutes.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from tests.factories import (
    AccessTokenFactory,
    AccountFactory,
    BatchOperationFactory,
    CalloutFactory,
    CalloutParticipationFactory,
    PhoneCallFactory,
    UserFactory,
)

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


def _fuzz(schema, token: str, ids: dict[str, int]) -> list[str]:
    """Every operation fuzzed in each of RUNS with `token`; the requests that got a 5xx, described."""
    server_errors: list[str] = []
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
                if response.status_code >= 500:
                    server_errors.append(
                        f"{response.status_code} {case.method} {case.formatted_path} query={case.query!r} "
                        f"body={case.body!r}"[:600]
                    )

            run()
    return server_errors


@pytest.mark.parametrize("role", ["super_admin", "ordinary"])
def test_no_generated_request_gets_a_server_error_when_fuzzing_the_schema(
    require_postgresql, schema, make_client, role
):
    account = AccountFactory(permissions=["super_admin"]) if role == "super_admin" else AccountFactory()
    client = make_client(account)

    server_errors = _fuzz(schema, client.token.token, _real_ids(account))

    assert server_errors == []


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
