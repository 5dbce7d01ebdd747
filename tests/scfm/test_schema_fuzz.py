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

from tests.factories import AccountFactory

EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 5}


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


def _fuzz(schema, token: str) -> list[str]:
    """Every operation fuzzed in both modes with `token`; the requests that got a 5xx, described."""
    server_errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    for operation in _operations(schema):
        for mode, examples in EXAMPLES.items():

            @given(case=operation.as_strategy(generation_mode=mode))
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

    server_errors = _fuzz(schema, client.token.token)

    assert server_errors == []


def test_schema_declares_page_per_page_sort_and_filters_when_an_operation_is_a_list(schema):
    lists = [
        operation
        for operation in _operations(schema)
        if operation.definition.raw.get("operationId", "").endswith("_list")
    ]
    assert len(lists) >= 30
    for operation in lists:
        names = {parameter["name"] for parameter in operation.definition.raw.get("parameters", [])}
        assert {"page", "per_page", "sort"} <= names, operation.path
        assert any(name.startswith("q[") for name in names), operation.path
