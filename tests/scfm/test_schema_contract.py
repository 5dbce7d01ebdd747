"""/api/schema documents the contract (rest-api-current.txt) as the API answers it: headers, the error shape, read
serializers for responses, multipart uploads, the provider webhooks, enums, and public descriptions.

(tests/scfm/test_schema_fuzz.py checks the other direction: that real responses match what the schema says.)
"""

import inspect

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from batch_operations.models import BatchOperation
from batch_operations.services import EVENTS as BATCH_OPERATION_EVENTS
from callouts.models import Callout
from callouts.services import CALLOUT_EVENTS
from contacts.models import ContactImport
from phone_calls.services import PHONE_CALL_EVENTS
from phone_calls.statuses import PhoneCallStatus

ERROR_CODES = {"400", "401", "403", "404", "413", "422"}
WEBHOOKS = {
    ("post", "/api/remote_phone_call_events"),
    ("post", "/twilio_webhooks/phone_call_events"),
    ("post", "/twilio_webhooks/recording_status_callbacks"),
}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema():
    response = Client().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema, *, webhooks=False):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS and ((method, path) in WEBHOOKS) == webhooks:
                yield method, path, operation


def resolve(schema, ref_or_schema: dict) -> dict:
    ref = ref_or_schema.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


def json_schema(response: dict) -> dict:
    return response["content"]["application/json"]["schema"]


def test_every_api_operation_documents_the_errors_in_the_api_error_shape(schema):
    for method, path, operation in operations(schema):
        responses = operation["responses"]
        assert ERROR_CODES <= set(responses), (method, path)
        for code in ERROR_CODES - {"404"}:
            assert json_schema(responses[code]) == {"$ref": "#/components/schemas/Errors"}, (method, path, code)
        assert json_schema(responses["404"]) == {"$ref": "#/components/schemas/NotFound"}, (method, path)
    errors = schema["components"]["schemas"]["Errors"]
    assert errors["required"] == ["errors"]
    assert schema["components"]["schemas"]["NotFound"]["required"] == ["status", "error"]


def test_every_page_declares_per_page_total_and_link_headers(schema):
    pages = [
        (path, operation)
        for method, path, operation in operations(schema)
        if method == "get" and {"page", "per_page"} <= {p["name"] for p in operation.get("parameters", [])}
    ]
    assert len(pages) >= 35
    for path, operation in pages:
        headers = operation["responses"]["200"]["headers"]
        assert headers["Per-Page"]["required"] and headers["Total"]["required"], path
        assert headers["Per-Page"]["schema"] == headers["Total"]["schema"] == {"type": "integer"}, path
        assert "Link" in headers and not headers["Link"].get("required"), path
        assert resolve(schema, json_schema(operation["responses"]["200"]))["type"] == "array", path


def test_creates_and_events_answer_the_read_serializer_with_a_location(schema):
    posts = [(path, operation) for method, path, operation in operations(schema) if method == "post"]
    assert len(posts) >= 15
    for path, operation in posts:
        created = operation["responses"]["201"]
        assert created["headers"]["Location"]["required"], path
        name = json_schema(created)["$ref"].rsplit("/", 1)[1]
        assert name.endswith("Read"), (path, name)
    request = schema["paths"]["/api/contacts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert request == {"$ref": "#/components/schemas/ContactWrite"}


def test_updates_and_deletes_answer_204_with_a_location_and_no_body(schema):
    changes = [(m, p, o) for m, p, o in operations(schema) if m in ("put", "patch", "delete")]
    assert len(changes) >= 30
    for method, path, operation in changes:
        success = {code for code in operation["responses"] if code < "400"}
        assert success == {"204"}, (method, path)
        assert "content" not in operation["responses"]["204"], (method, path)
        assert operation["responses"]["204"]["headers"]["Location"]["required"], (method, path)


def test_shows_declare_their_location(schema):
    assert schema["paths"]["/api/contacts/{id}"]["get"]["responses"]["200"]["headers"]["Location"]["required"]
    assert schema["paths"]["/api/account"]["get"]["responses"]["200"]["headers"]["Location"]["required"]


def test_a_contact_import_is_uploaded_as_multipart_only(schema):
    body = schema["paths"]["/api/contact_imports"]["post"]["requestBody"]
    assert set(body["content"]) == {"multipart/form-data"}
    upload = resolve(schema, body["content"]["multipart/form-data"]["schema"])
    assert upload["properties"]["file"] == {"type": "string", "format": "binary"}
    assert upload["required"] == ["file"]


@pytest.mark.parametrize(("method", "path"), sorted(WEBHOOKS))
def test_the_provider_webhooks_are_signed_form_operations(schema, method, path):
    operation = schema["paths"][path][method]
    assert set(operation["requestBody"]["content"]) == {"application/x-www-form-urlencoded"}
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"AccountSid", "CallSid"} <= set(form["required"])
    signature = [p for p in operation["parameters"] if p["in"] == "header"]
    assert [p["name"] for p in signature] == ["X-Twilio-Signature"] and signature[0]["required"]
    assert operation["security"] == []
    assert {"400", "403"} <= set(operation["responses"])
    assert "text/plain" in operation["responses"]["403"]["content"]


def test_the_call_webhooks_answer_twiml_and_the_recording_callback_204(schema):
    for path in ("/api/remote_phone_call_events", "/twilio_webhooks/phone_call_events"):
        assert set(schema["paths"][path]["post"]["responses"]["200"]["content"]) == {"text/xml"}
    assert "204" in schema["paths"]["/twilio_webhooks/recording_status_callbacks"]["post"]["responses"]
    # and the index that shares the webhook's path is documented too
    index = schema["paths"]["/api/remote_phone_call_events"]["get"]
    assert index["operationId"] == "remote_phone_call_events_list"


@pytest.mark.parametrize(
    ("component", "enum", "values"),
    [
        ("CalloutRead", "CalloutStatusEnum", Callout.Status.values),
        ("PhoneCallRead", "PhoneCallStatusEnum", PhoneCallStatus.values),
        ("BatchOperationRead", "BatchOperationStatusEnum", BatchOperation.Status.values),
        ("ContactImportRead", "ContactImportStatusEnum", ContactImport.Status.values),
    ],
)
def test_statuses_are_named_enums_of_the_model_values(schema, component, enum, values):
    components = schema["components"]["schemas"]
    status = components[component]["properties"]["status"]
    assert (status.get("$ref") or status["allOf"][0]["$ref"]) == f"#/components/schemas/{enum}"
    assert components[enum]["enum"] == list(values)


@pytest.mark.parametrize(
    ("path", "enum", "values"),
    [
        ("/api/callouts/{id}/callout_events", "CalloutEventEnum", CALLOUT_EVENTS),
        ("/api/batch_operations/{id}/batch_operation_events", "BatchOperationEventEnum", BATCH_OPERATION_EVENTS),
        ("/api/callout_populations/{id}/callout_population_events", "BatchOperationEventEnum", BATCH_OPERATION_EVENTS),
        ("/api/phone_calls/{id}/phone_call_events", "PhoneCallEventEnum", PHONE_CALL_EVENTS),
        ("/api/users/{id}/user_events", "UserEventEnum", ("invite",)),
    ],
)
def test_event_bodies_take_an_enum_of_the_resource_events(schema, path, enum, values):
    body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    event = resolve(schema, body)
    assert event["required"] == ["event"]
    assert event["properties"]["event"] == {"$ref": f"#/components/schemas/{enum}"}
    assert schema["components"]["schemas"][enum]["enum"] == list(values)


def _view_docstrings() -> set[str]:
    """The docstrings of every API view class and action method: notes for developers."""

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                yield pattern.callback

    docs = set()
    for callback in walk(get_resolver().url_patterns):
        view_class = getattr(callback, "cls", None)
        actions = (getattr(callback, "actions", None) or {}).values()
        for owner in (view_class, *(getattr(view_class, action, None) for action in actions)):
            doc = inspect.getdoc(owner) if owner is not None else None
            if doc:
                docs.add(doc.splitlines()[0])
    return docs


def test_every_operation_has_a_public_summary_and_description_never_a_docstring(schema):
    docstrings = _view_docstrings()
    assert any("Create 201 + Location" in doc for doc in docstrings)  # ResourceViewSet's, which every view inherits
    for method, path, operation in [*operations(schema), *operations(schema, webhooks=True)]:
        assert operation.get("summary") and operation.get("description"), (method, path)
        for doc in docstrings:
            assert doc not in operation["description"], (method, path, doc)
    for name, component in schema["components"]["schemas"].items():
        assert "read_only_names" not in component.get("description", ""), name  # WriteSerializer's notes


def test_every_operation_id_is_unique_and_plain(schema):
    ids = [operation["operationId"] for *_, operation in [*operations(schema), *operations(schema, webhooks=True)]]
    assert len(ids) == len(set(ids))
    assert all(identifier.replace("_", "").isalnum() for identifier in ids), ids
