"""Issue 11, section 3: never silently drop what the user asked for.

Families of inputs covered (each a table below, answered 422 `{"errors": {<the key as sent>: [...]}}` with nothing
written, on every entry point that reads it: query strings, form and multipart bodies, JSON bodies, filters, batch
operation parameters):

- malformed bracket syntax: a stray `]` (`a]`, `a[b]]`), an unclosed `[` (`a[b`), a `[` inside brackets
  (`q[metadata][a[b]]`), text after a closing `]` (`a[b]c`), an empty name (`=x`, `[]`, `a[][b]`), and two keys
  giving one name two shapes (`metadata=x&metadata[a]=1`);
- an unknown top-level name: in a query string (per action: lists know `q`, their filters' names, `page`,
  `per_page`, `sort`; every request knows `access_token`, `format`), a form body, a JSON body (a name the resource
  shows but the request can't write is "is read-only");
- an unknown filter name: inside `q`, inside `q[callout_filter_params]`, inside `contact_filter_params`,
  `callout_filter_params`, `callout_participation_filter_params`, `phone_call_filter_params`; a filter hash that
  is not a hash (`""` included) is a 422 too, never "no filter";
- an unknown batch operation parameter, per type, given or from the account's settings;
- a filter named without a value (`q[status]=`, `?status=`, `contact_filter_params[msisdn]=`, JSON null): "can't be
  blank", so a population never takes everyone because a filter had no value.

And what stays accepted: the legacy forms the contract keeps (leading-bracket `[metadata][name]=…`, v1's unnested
`?metadata[foo]=bar` / `?status=…`, top-level `contact_filter_params`, `account_sid`/`account_id`, JSON sent with a
form content type, `?access_token=`), keys inside free-form data (metadata, settings, metadata filters' JSON paths),
and provider webhooks, which are exempt.
"""

import json
from urllib.parse import quote

import pytest
from django.test import Client

from accounts.models import AccessToken, Account, User
from batch_operations.models import BatchOperation
from callouts.models import Callout, CalloutParticipation
from contacts.models import Contact
from phone_calls.models import PhoneCall, RemotePhoneCallEvent
from scfm.query.params import ParamError, nest, split_key
from tests.factories import (
    AccessTokenFactory,
    BatchOperationFactory,
    CalloutFactory,
    CalloutParticipationFactory,
    ContactFactory,
    PhoneCallFactory,
    UserFactory,
)
from tests.phone_calls.webhook_helpers import callback_params, outbound_call, provider_account, signed_post

FORM = "application/x-www-form-urlencoded"
POPULATION = "BatchOperation::CalloutPopulation"
CREATE = "BatchOperation::PhoneCallCreate"
QUEUE = "BatchOperation::PhoneCallQueue"
FETCH = "BatchOperation::PhoneCallQueueRemoteFetch"
TWILIO = {"remote_request_params": {"from": "1234"}}

# --- the bracket parser (scfm/query/params.py) ------------------------------------------------------------------

MALFORMED_KEYS = [
    # stray `]`
    ("a]", "has a stray ']'"),
    ("a[b]]", "has a stray ']'"),
    ("parameters[contact_filter_params][metadata][gender]]", "has a stray ']'"),
    ("]a[b]", "has a stray ']'"),
    # unclosed `[`
    ("a[b", "has an unclosed '['"),
    ("a[", "has an unclosed '['"),
    ("q[metadata][gender", "has an unclosed '['"),
    # `[` inside brackets
    ("q[metadata][a[b]]", "has a '[' inside brackets"),
    ("a[[b]]", "has a '[' inside brackets"),
    # text after a closing `]`
    ("a[b]c", "has text after a closing ']'"),
    ("q[status]x[y]", "has text after a closing ']'"),
    # empty names
    ("", "is an empty parameter name"),
    ("[]", "has an empty name"),
    ("[][a]", "has an empty name"),
    ("a[][b]", "has an empty '[]' where a name is expected"),
    ("q[metadata][][x]", "has an empty '[]' where a name is expected"),
]

WELL_FORMED_KEYS = [
    ("a", ["a"]),
    ("a[b]", ["a", "b"]),
    ("a[b][]", ["a", "b", ""]),
    ("ids[]", ["ids", ""]),
    ("[metadata][name]", ["metadata", "name"]),  # getting-started.md's leading-bracket form
    ("q[metadata][date_of_birth.date.gt]", ["q", "metadata", "date_of_birth.date.gt"]),
    ("q[metadata][registered districts.any][]", ["q", "metadata", "registered districts.any", ""]),
]


@pytest.mark.parametrize(("key", "why"), MALFORMED_KEYS)
def test_split_key_raises_naming_the_key_when_its_brackets_are_malformed(key, why):
    with pytest.raises(ParamError) as raised:
        split_key(key)
    assert raised.value.errors == {key: [why]}


@pytest.mark.parametrize(("key", "segments"), WELL_FORMED_KEYS)
def test_split_key_reads_well_formed_keys(key, segments):
    assert split_key(key) == segments


def test_nest_names_every_malformed_key_at_once():
    with pytest.raises(ParamError) as raised:
        nest([("metadata[name]", "A"), ("a]", "1"), ("b[", "2")])
    assert raised.value.errors == {"a]": ["has a stray ']'"], "b[": ["has an unclosed '['"]}


@pytest.mark.parametrize(
    ("items", "key", "first"),
    [
        ([("metadata", "x"), ("metadata[a]", "1")], "metadata[a]", "metadata"),
        ([("metadata[a]", "1"), ("metadata", "x")], "metadata", "metadata[a]"),
        ([("ids[]", "1"), ("ids[a]", "2")], "ids[a]", "ids[]"),
        ([("ids", "1"), ("ids[]", "2")], "ids[]", "ids"),
        ([("q[metadata][a]", "1"), ("q[metadata][a][b]", "2")], "q[metadata][a][b]", "q[metadata][a]"),
    ],
)
def test_nest_raises_when_two_keys_give_one_name_two_shapes(items, key, first):
    with pytest.raises(ParamError) as raised:
        nest(items)
    assert raised.value.errors == {key: [f"conflicts with '{first}'"]}


def test_nest_builds_hashes_and_lists_from_well_formed_keys():
    items = [("[metadata][name]", "A"), ("metadata[gender]", "f"), ("ids[]", "1"), ("ids[]", "2"), ("a", "x")]
    assert nest(items) == {"metadata": {"name": "A", "gender": "f"}, "ids": ["1", "2"], "a": "x"}


# --- malformed keys through the API --------------------------------------------------------------------------------

LIST_PATHS = ["/api/contacts", "/api/callouts", "/api/phone_calls", "/api/batch_operations", "/api/callout_populations"]
QUERY_KEYS = ["q[metadata][gender]]", "q[metadata][a[b]]", "q[metadata][gender", "q[][status]", "q[status]x"]


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize("key", QUERY_KEYS)
def test_list_is_unprocessable_naming_the_key_when_the_query_string_has_malformed_brackets(client_for, path, key):
    response = client_for.get(f"{path}?{quote(key)}=f")
    assert response.status_code == 422, response.content
    assert list(response.json()["errors"]) == [key]


def test_list_is_unprocessable_when_two_query_keys_give_one_name_two_shapes(client_for):
    response = client_for.get("/api/contacts?q[metadata]=x&q[metadata][a]=1")
    assert response.status_code == 422
    assert response.json() == {"errors": {"q[metadata][a]": ["conflicts with 'q[metadata]'"]}}


def test_show_is_unprocessable_when_the_query_string_has_malformed_brackets(client_for, account):
    contact = ContactFactory(account=account)
    response = client_for.get(f"/api/contacts/{contact.pk}?a]=1")
    assert response.status_code == 422
    assert response.json() == {"errors": {"a]": ["has a stray ']'"]}}


def _created_nothing():
    return (Contact.objects.count(), Callout.objects.count(), BatchOperation.objects.count())


FORM_CREATES = [
    ("/api/contacts", "msisdn=%2B252662345678&metadata[name]]=Alice", "metadata[name]]"),
    ("/api/contacts", "msisdn=%2B252662345678&[metadata][name=Alice", "[metadata][name"),
    ("/api/callouts", "metadata[a[b]]=1", "metadata[a[b]]"),
    ("/api/callouts", "metadata[][a]=1", "metadata[][a]"),
    ("/api/callouts", "metadata=x&metadata[a]=1", "metadata[a]"),
]


@pytest.mark.parametrize(("path", "body", "key"), FORM_CREATES)
def test_create_is_unprocessable_naming_the_key_when_the_form_body_has_malformed_brackets(client_for, path, body, key):
    before = _created_nothing()
    response = client_for.generic("POST", path, body, content_type=FORM)
    assert response.status_code == 422, response.content
    assert list(response.json()["errors"]) == [key]
    assert _created_nothing() == before


def test_multipart_body_with_malformed_brackets_is_unprocessable(client_for):
    response = client_for.post("/api/contacts", {"msisdn": "+252662345678", "metadata[a]]": "1"})
    assert response.status_code == 422
    assert response.json() == {"errors": {"metadata[a]]": ["has a stray ']'"]}}
    assert not Contact.objects.exists()


# --- the population of issue 11: a stray bracket never populates everyone ------------------------------------------


@pytest.fixture
def callout_with_contacts(account):
    callout = CalloutFactory(account=account)
    ContactFactory(account=account, metadata={"gender": "f"})
    ContactFactory(account=account, metadata={"gender": "m"})
    return callout


POPULATION_BODIES = [
    # (body, the key the 422 names)
    ("type=BatchOperation::CalloutPopulation&parameters[contact_filter_params][metadata][gender]]=f",
     "parameters[contact_filter_params][metadata][gender]]"),
    ("type=BatchOperation::CalloutPopulation&parameters[contact_filter_params][metadata][gender=f",
     "parameters[contact_filter_params][metadata][gender"),
    ("type=BatchOperation::CalloutPopulation&parameters[contact_filter_params][][gender]=f",
     "parameters[contact_filter_params][][gender]"),
    ("type=BatchOperation::CalloutPopulation&parameters[contact_filter_params][metadata][a[b]]=f",
     "parameters[contact_filter_params][metadata][a[b]]"),
    ("type=BatchOperation::CalloutPopulation&parameters[contact_filter_params][gender]=f",
     "contact_filter_params"),  # an unknown filter name
    ("type=BatchOperation::CalloutPopulation&parameters[contact_filter_params]=", "contact_filter_params"),
    ("type=BatchOperation::CalloutPopulation&parameters[contact_filter]=x", "parameters"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "key"), POPULATION_BODIES)
def test_population_is_never_created_when_its_filter_cannot_be_read(client_for, callout_with_contacts, body, key):
    response = client_for.generic(
        "POST", f"/api/callouts/{callout_with_contacts.pk}/batch_operations", body, content_type=FORM
    )
    assert response.status_code == 422, response.content
    assert key in response.json()["errors"] or key in json.dumps(response.json()["errors"])
    assert not BatchOperation.objects.exists()
    assert not CalloutParticipation.objects.exists()


def test_population_filter_with_an_unknown_name_is_named_under_contact_filter_params(client_for, callout_with_contacts):
    response = client_for.post(
        f"/api/callouts/{callout_with_contacts.pk}/batch_operations",
        {"type": POPULATION, "parameters": {"contact_filter_params": {"gender": "f"}}},
        format="json",
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {"contact_filter_params": {"gender": ["is not a known filter"]}}}


def test_population_update_with_a_stray_bracket_keeps_its_filter_and_is_never_queued(
    client_for, account, callout_with_contacts
):
    operation = BatchOperationFactory(
        callout=callout_with_contacts, parameters={"contact_filter_params": {"metadata": {"gender": "f"}}}
    )
    response = client_for.generic(
        "PATCH",
        f"/api/batch_operations/{operation.pk}",
        "parameters[contact_filter_params][metadata][gender]]=m",
        content_type=FORM,
    )
    assert response.status_code == 422
    operation.refresh_from_db()
    assert operation.parameters == {"contact_filter_params": {"metadata": {"gender": "f"}}}
    queued = client_for.generic(
        "POST", f"/api/batch_operations/{operation.pk}/batch_operation_events", "event=queue&x]=1", content_type=FORM
    )
    assert queued.status_code == 422
    operation.refresh_from_db()
    assert operation.status == "preview"
    assert not CalloutParticipation.objects.exists()


def test_v1_population_with_a_stray_bracket_is_unprocessable(client_for, callout_with_contacts):
    response = client_for.generic(
        "POST",
        f"/api/callouts/{callout_with_contacts.pk}/callout_populations",
        "contact_filter_params[metadata][gender]]=f",
        content_type=FORM,
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {"contact_filter_params[metadata][gender]]": ["has a stray ']'"]}}
    assert not BatchOperation.objects.exists()


# --- unknown names in query strings ------------------------------------------------------------------------------

UNKNOWN_QUERY_PARAMS = [
    ("/api/contacts", "gender=f"),  # a metadata key without metadata[...]
    ("/api/contacts", "stauts=1"),
    ("/api/contacts", "pages=2"),
    ("/api/callouts", "q_status=running"),
    ("/api/callout_participations", "callout=1"),
    ("/api/phone_calls", "duration_greater=1"),
    ("/api/batch_operations", "contact_filter_params[metadata][gender]=f"),  # v1's name, not on v2's list
    ("/api/remote_phone_call_events", "CallStatus=completed"),
    ("/api/access_tokens", "account=1"),
    ("/api/contact_imports", "filename=a.csv"),
]


@pytest.mark.parametrize(("path", "query"), UNKNOWN_QUERY_PARAMS)
def test_list_is_unprocessable_naming_an_unknown_query_parameter(client_for, path, query):
    name = query.split("=")[0].split("[")[0]
    response = client_for.get(f"{path}?{query}")
    assert response.status_code == 422, response.content
    assert response.json() == {"errors": {name: ["is not a known parameter"]}}


@pytest.mark.parametrize("query", ["page=2", "sort=-id", "q[metadata][a]=1", "foo=1"])
def test_show_is_unprocessable_when_the_query_names_what_it_does_not_read(client_for, account, query):
    contact = ContactFactory(account=account)
    response = client_for.get(f"/api/contacts/{contact.pk}?{query}")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [query.split("=")[0].split("[")[0]]


def test_create_is_unprocessable_when_the_query_string_names_an_unknown_parameter(client_for):
    response = client_for.post("/api/contacts?msisdn=%2B252662345678", {"msisdn": "+252662345679"}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"msisdn": ["is not a known parameter"]}}
    assert not Contact.objects.exists()


def test_unknown_query_parameters_are_checked_after_credentials(anonymous, db):
    response = anonymous.get("/api/contacts?foo=1")
    assert response.status_code == 401


# --- unknown filter names ----------------------------------------------------------------------------------------

UNKNOWN_FILTERS = [
    ("/api/contacts?q[gender]=f", {"q": {"gender": ["is not a known filter"]}}),
    ("/api/callouts?q[name]=x", {"q": {"name": ["is not a known filter"]}}),
    ("/api/phone_calls?q[duration_greater]=1", {"q": {"duration_greater": ["is not a known filter"]}}),
    (
        "/api/batch_operations?q[contact_filter_params][a]=1",
        {"q": {"contact_filter_params": ["is not a known filter"]}},
    ),
    (
        "/api/callout_participations?q[callout_filter_params][name]=x",
        {"q": {"callout_filter_params": {"name": ["is not a known filter"]}}},
    ),
]


@pytest.mark.parametrize(("url", "errors"), UNKNOWN_FILTERS)
def test_list_is_unprocessable_naming_an_unknown_filter(client_for, url, errors):
    response = client_for.get(url)
    assert response.status_code == 422
    assert response.json() == {"errors": errors}


# --- unknown batch operation parameters --------------------------------------------------------------------------

BATCH_PARAMETERS = [
    (POPULATION, {"contact_filter_params": {"metadata": {"gender": "f"}}, "limit": "1"}, "limit"),
    (POPULATION, {"contact_filters": {"metadata": {"gender": "f"}}}, "contact_filters"),
    (CREATE, {**TWILIO, "phone_call_filter_params": {"status": "created"}}, "phone_call_filter_params"),
    (CREATE, {**TWILIO, "limits": "1"}, "limits"),
    (QUEUE, {"phone_call_filter_params": {"status": "created"}, "remote_request_params": {"from": "1"}},
     "remote_request_params"),
    (QUEUE, {"phone_call_filters": {"status": "created"}}, "phone_call_filters"),
    (FETCH, {"skip_validate_preview": "1"}, "skip_validate_preview"),
]  # fmt: skip


@pytest.mark.parametrize(("type", "parameters", "name"), BATCH_PARAMETERS)
@pytest.mark.parametrize("encoding", ["json", "form"])
def test_batch_operation_is_unprocessable_naming_an_unknown_parameter(
    client_for, account, type, parameters, name, encoding
):
    callout = CalloutFactory(account=account, status="running")
    CalloutParticipationFactory(callout=callout)
    path = f"/api/callouts/{callout.pk}/batch_operations"
    if encoding == "json":
        response = client_for.post(path, {"type": type, "parameters": parameters}, format="json")
    else:
        response = client_for.generic("POST", path, _form({"type": type, "parameters": parameters}), content_type=FORM)
    assert response.status_code == 422, response.content
    assert response.json() == {"errors": {"parameters": {name: ["is not a known parameter"]}}}
    assert not BatchOperation.objects.exists()


def _form(data: dict, prefix: str = "") -> str:
    """A nested dict as a bracket-keyed form body."""
    pairs = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            pairs.append(_form(value, name))
        else:
            pairs.append(f"{quote(name, safe='[]')}={quote(str(value))}")
    return "&".join(pairs)


def test_batch_operation_names_an_unknown_parameter_from_the_account_settings(client_for, account):
    account.settings = {**account.settings, "batch_operation_callout_population_parameters": {"limt": "3"}}
    account.save(update_fields=["settings"])
    callout = CalloutFactory(account=account)
    response = client_for.post(f"/api/callouts/{callout.pk}/batch_operations", {"type": POPULATION}, format="json")
    assert response.status_code == 422
    assert response.json() == {
        "errors": {
            "parameters": {
                "limt": ["is not a known parameter (from the account's setting "
                         "batch_operation_callout_population_parameters)"]
            }
        }
    }  # fmt: skip


def test_batch_operation_update_is_unprocessable_naming_an_unknown_parameter(client_for, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account), parameters={})
    response = client_for.patch(
        f"/api/batch_operations/{operation.pk}", {"parameters": {"contact_filter": {}}}, format="json"
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {"parameters": {"contact_filter": ["is not a known parameter"]}}}
    operation.refresh_from_db()
    assert operation.parameters == {}


@pytest.mark.parametrize(
    "name", ["callout_filter_params", "callout_participation_filter_params", "phone_call_filter_params"]
)
def test_phone_call_batch_filter_that_is_not_a_hash_is_unprocessable(client_for, account, name):
    callout = CalloutFactory(account=account, status="running")
    call = PhoneCallFactory(callout_participation=CalloutParticipationFactory(callout=callout))
    assert call.status == "created"
    response = client_for.post(
        f"/api/callouts/{callout.pk}/batch_operations",
        {"type": QUEUE, "parameters": {name: ""}},
        format="json",
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {name: ["must be a hash of filters"]}}
    assert not BatchOperation.objects.exists()


# --- unknown JSON body fields, every resource -----------------------------------------------------------------------


def _arrange(account):
    callout = CalloutFactory(account=account)
    participation = CalloutParticipationFactory(callout=callout)
    contact = participation.contact
    call = PhoneCallFactory(callout_participation=participation)
    event = RemotePhoneCallEvent.objects.create(phone_call=call, details={}, remote_call_id="CA1")
    return {
        "contact": contact,
        "callout": callout,
        "participation": participation,
        "call": call,
        "event": event,
        "operation": BatchOperationFactory(callout=callout),
        "token": AccessTokenFactory(account=account),
        "user": UserFactory(account=account),
    }


# (method, path template, body with one unknown name, the name, message)
UNKNOWN_BODY_FIELDS = [
    ("post", "/api/contacts", {"msisdn": "+252662345600", "name": "Alice"}, "name", "is not a known parameter"),
    ("patch", "/api/contacts/{contact}", {"gender": "f"}, "gender", "is not a known parameter"),
    ("post", "/api/contact_data", {"msisdn": "+252662345601", "metdata": {}}, "metdata", "is not a known parameter"),
    ("post", "/api/callouts", {"call_flow_logic": "CallFlowLogic::HelloWorld", "name": "x"}, "name",
     "is not a known parameter"),
    ("patch", "/api/callouts/{callout}", {"status": "running"}, "status", "is read-only"),
    ("post", "/api/callouts/{callout}/callout_participations", {"msisdn": "+252662345602", "contact": 1}, "contact",
     "is not a known parameter"),
    ("patch", "/api/callout_participations/{participation}", {"answered": True}, "answered", "is read-only"),
    ("post", "/api/callout_participations/{participation}/phone_calls", {"msisdn": "+1"}, "msisdn", "is read-only"),
    ("patch", "/api/phone_calls/{call}", {"status": "completed"}, "status", "is read-only"),
    ("post", "/api/callouts/{callout}/batch_operations", {"type": POPULATION, "contact_filter_params": {}},
     "contact_filter_params", "is not a known parameter"),
    ("patch", "/api/batch_operations/{operation}", {"status": "finished"}, "status", "is read-only"),
    ("post", "/api/callouts/{callout}/callout_populations", {"contact_filters": {}}, "contact_filters",
     "is not a known parameter"),
    ("post", "/api/access_tokens", {"permissions": [], "scopes": ["x"]}, "scopes", "is not a known parameter"),
    ("patch", "/api/access_tokens/{token}", {"token": "mine"}, "token", "is read-only"),
    ("post", "/api/users", {"email": "a@example.com", "password": "secret1", "name": "A"}, "name",
     "is not a known parameter"),
    ("patch", "/api/users/{user}", {"account_id": 1}, "account_id", "is read-only"),
    ("patch", "/api/account", {"twilio_auth_tokn": "x"}, "twilio_auth_tokn", "is not a known parameter"),
    ("patch", "/api/remote_phone_call_events/{event}", {"details": {}}, "details", "is read-only"),
    ("post", "/api/callouts/{callout}/callout_events", {"event": "start", "force": True}, "force",
     "is not a known parameter"),
    ("post", "/api/users/{user}/user_events", {"event": "invite", "to": "x"}, "to", "is not a known parameter"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "template", "body", "name", "message"), UNKNOWN_BODY_FIELDS)
def test_write_is_unprocessable_naming_an_unknown_body_field(
    client_for, account, method, template, body, name, message
):
    objects = _arrange(account)
    path = template.format(**{key: getattr(value, "pk", value) for key, value in objects.items()})
    counts = [model.objects.count() for model in (Contact, Callout, CalloutParticipation, PhoneCall, BatchOperation)]
    response = getattr(client_for, method)(path, body, format="json")
    assert response.status_code == 422, response.content
    assert response.json() == {"errors": {name: [message]}}
    assert [model.objects.count() for model in (Contact, Callout, CalloutParticipation, PhoneCall, BatchOperation)] == (
        counts
    )
    objects["callout"].refresh_from_db()
    assert objects["callout"].status == "initialized"


def test_account_create_is_unprocessable_naming_an_unknown_body_field(super_admin_client):
    count = Account.objects.count()
    response = super_admin_client.post("/api/accounts", {"plan": "gold"}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"plan": ["is not a known parameter"]}}
    assert Account.objects.count() == count


def test_form_body_with_an_unknown_name_is_unprocessable(client_for, account):
    response = client_for.generic("POST", "/api/contacts", "msisdn=%2B252662345678&gender=f", content_type=FORM)
    assert response.status_code == 422
    assert response.json() == {"errors": {"gender": ["is not a known parameter"]}}
    assert not Contact.objects.exists()


def test_contact_import_with_an_unknown_field_is_unprocessable(client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("contacts.csv", b"msisdn\n+252662345678\n", content_type="text/csv")
    response = client_for.post("/api/contact_imports", {"file": upload, "delimiter": ";"})
    assert response.status_code == 422
    assert response.json() == {"errors": {"delimiter": ["is not a known parameter"]}}


# --- what stays accepted ---------------------------------------------------------------------------------------------


def test_legacy_forms_are_known_names(client_for, account):
    alice = ContactFactory(account=account, msisdn="+85510202101", metadata={"foo": "bar", "bar": "baz"})
    ContactFactory(account=account, metadata={"foo": "other"})
    callout = CalloutFactory(account=account, status="initialized", metadata={"foo": "bar"})
    assert [c["id"] for c in client_for.get("/api/contacts?metadata[foo]=bar&metadata[bar]=baz").json()] == [alice.pk]
    assert [c["id"] for c in client_for.get("/api/contacts?msisdn=85510202101").json()] == [alice.pk]
    assert [c["id"] for c in client_for.get("/api/callouts?status=initialized").json()] == [callout.pk]
    page = client_for.get("/api/contacts?page=1&per_page=1&sort=-id,created_at&format=json&q[metadata][foo]=bar")
    assert (page.status_code, page["Per-Page"]) == (200, "1")
    assert client_for.get(f"/api/contacts/{alice.pk}?format=json").status_code == 200


def test_access_token_query_parameter_is_a_known_name(anonymous, account):
    token = AccessTokenFactory(account=account)
    assert anonymous.get(f"/api/contacts?access_token={token.token}&q[metadata][a]=1").status_code == 200


def test_leading_bracket_form_and_json_with_a_form_content_type_are_accepted(client_for, account):
    leading = client_for.generic(
        "POST", "/api/contacts", "msisdn=%2B252662345678&[metadata][name]=Alice", content_type=FORM
    )
    assert leading.status_code == 201, leading.content
    assert leading.json()["metadata"] == {"name": "Alice"}
    as_json = client_for.generic(
        "POST", "/api/contacts", json.dumps({"msisdn": "+252662345679", "metadata": {"a": 1}}), content_type=FORM
    )
    assert as_json.status_code == 201, as_json.content


def test_v1_top_level_contact_filter_params_is_a_known_name(client_for, account):
    callout = CalloutFactory(account=account)
    created = client_for.generic(
        "POST",
        f"/api/callouts/{callout.pk}/callout_populations",
        "contact_filter_params[metadata][location]=phnom+penh",
        content_type=FORM,
    )
    assert created.status_code == 201, created.content
    listed = client_for.get("/api/callout_populations?contact_filter_params[metadata][location]=phnom+penh")
    assert [item["id"] for item in listed.json()] == [created.json()["id"]]


def test_account_sid_and_account_id_are_known_names_where_the_documents_use_them(super_admin_client, account):
    created = super_admin_client.generic("POST", "/api/access_tokens", f"account_sid={account.pk}", content_type=FORM)
    assert created.status_code == 201, created.content
    assert AccessToken.objects.get(pk=created.json()["id"]).account_id == account.pk
    listed = super_admin_client.get(f"/api/access_tokens?account_id={account.pk}")
    assert listed.status_code == 200
    user = super_admin_client.post(
        "/api/users", {"email": "b@example.com", "password": "secret1", "account_id": account.pk}, format="json"
    )
    assert user.status_code == 201, user.content
    assert User.objects.get(pk=user.json()["id"]).account_id == account.pk


def test_keys_inside_free_form_data_are_never_rejected(client_for, account):
    metadata = {"a[b]": 1, "x]": {"[y": 2}, "": 3, "q": {"page": 4}}
    created = client_for.post("/api/contacts", {"msisdn": "+252662345678", "metadata": metadata}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["metadata"] == metadata
    callout = client_for.post("/api/callouts", {"settings": {"anything": {"at": "all"}}}, format="json")
    assert callout.status_code == 201, callout.content
    assert client_for.get("/api/contacts?q[metadata][any.name.at.all]=1").status_code == 200


def test_provider_webhooks_are_exempt_from_the_name_checks(db):
    account = provider_account()
    call = outbound_call(account)
    params = callback_params(CallStatus="ringing", StirVerstat="TN-Validation-Passed-A", **{"Odd]": "1", "": "x"})
    response = signed_post(Client(), f"/twilio_webhooks/phone_call_events?phone_call_id={call.pk}", params)
    assert response.status_code == 200, response.content


def test_previews_read_page_per_page_and_sort_but_no_filters(client_for, account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    ContactFactory(account=account)
    preview = f"/api/batch_operations/{operation.pk}/preview/contacts"
    assert client_for.get(f"{preview}?page=1&per_page=5&sort=-id").status_code == 200
    response = client_for.get(f"{preview}?q[metadata][gender]=f")
    assert response.status_code == 422
    assert response.json() == {"errors": {"q": ["is not a known parameter"]}}


def test_v1_population_update_names_an_unknown_contact_filter(client_for, account):
    operation = BatchOperationFactory(
        callout=CalloutFactory(account=account), parameters={"contact_filter_params": {"metadata": {"a": "1"}}}
    )
    response = client_for.generic(
        "PUT",
        f"/api/callout_populations/{operation.pk}",
        "contact_filter_params[location]=battambang",
        content_type=FORM,
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {"contact_filter_params": {"location": ["is not a known filter"]}}}
    operation.refresh_from_db()
    assert operation.parameters == {"contact_filter_params": {"metadata": {"a": "1"}}}


# --- a filter named without a value: a 422, never "no filter" -------------------------------------------------------

BLANK_LIST_FILTERS = [
    ("/api/contacts?q[msisdn]=", "msisdn"),
    ("/api/contacts?q[metadata]=", "metadata"),
    ("/api/contacts?q[created_at_after]=", "created_at_after"),
    ("/api/callouts?q[status]=", "status"),
    ("/api/callouts?status=", "status"),  # v1's unnested form
    ("/api/phone_calls?q[callout_id]=", "callout_id"),
]


@pytest.mark.parametrize(("url", "name"), BLANK_LIST_FILTERS)
def test_list_is_unprocessable_when_a_filter_is_named_without_a_value(client_for, url, name):
    response = client_for.get(url)
    assert response.status_code == 422
    assert response.json() == {"errors": {"q": {name: ["can't be blank"]}}}


@pytest.mark.parametrize(
    "body",
    [
        "type=BatchOperation::CalloutPopulation&parameters[contact_filter_params][msisdn]=",
        "type=BatchOperation::CalloutPopulation&parameters[contact_filter_params][metadata]=",
        "type=BatchOperation::CalloutPopulation&parameters[contact_filter_params][updated_at_before]=",
    ],
)
def test_population_is_never_created_when_a_filter_is_named_without_a_value(client_for, callout_with_contacts, body):
    response = client_for.generic(
        "POST", f"/api/callouts/{callout_with_contacts.pk}/batch_operations", body, content_type=FORM
    )
    assert response.status_code == 422, response.content
    name = body.rsplit("[", 1)[1].split("]")[0]
    assert response.json() == {"errors": {"contact_filter_params": {name: ["can't be blank"]}}}
    assert not BatchOperation.objects.exists()


def test_phone_call_batch_is_unprocessable_when_a_callout_filter_is_named_without_a_value(client_for, account):
    callout = CalloutFactory(account=account, status="running")
    PhoneCallFactory(callout_participation=CalloutParticipationFactory(callout=callout))
    response = client_for.post(
        "/api/batch_operations",
        {"type": QUEUE, "parameters": {"callout_filter_params": {"status": None}}},
        format="json",
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {"callout_filter_params": {"status": ["can't be blank"]}}}
    assert not BatchOperation.objects.exists()
