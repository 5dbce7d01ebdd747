"""Every bad input is a clear 4xx at the edge, in the JSON error shape, never a 500 and never half-written (issue 11,
section 4). One row per input; run on PostgreSQL and on SQLite (DATABASE_URL unset), where the databases differ.

The kinds, and the family of inputs each covers (the rules live in scfm.limits, applied by scfm.middleware and the
API's parsers):
- UNSTORABLE TEXT: a NUL (U+0000) or a lone surrogate (U+D800..U+DFFF) anywhere a string arrives — a JSON value, a
  JSON key, nested at any depth or inside a list, a top-level field, a form value or key, a multipart field, a query
  parameter (filter, sort, page, metadata filter), a webhook parameter before its signature is checked — is a 422
  naming where it was; in `access_token` (query or header) it is a 401 like any token that doesn't exist.
- NUMBERS A COLUMN CAN'T HOLD: an integer outside the signed 64-bit range in `page`, `per_page`, an integer filter
  (`q[callout_id]`), a JSON body is a 422; an id in the URL beyond it is a 404 (no row has it); NaN, Infinity and
  floats that overflow (`1e400`) in a JSON body are a 422. The edges themselves (2**63-1) are accepted.
- DATES THAT DON'T EXIST: `2024-02-30`, `2023-13-01`, `2024-02-30T10:00:00Z`, a time with no UTC equivalent
  (`0001-01-01T00:00:00+01:00`) are a 422 in every timestamp filter; `2024-02-29`, `9999-12-31` are accepted.
- NESTING: a JSON body nested more than 32 levels (1,000 levels included), a form or query key with more than 32
  bracket segments (5,000 included) is a 422; 20 levels of metadata are stored.
- SIZE: a body over 2.5 MiB (10 MB) is a 413, more than 1,000 form fields or query parameters a 400, all in the JSON
  error shape (the webhooks too); a contact-import upload may be larger (SCFM_UPLOAD_MAX_SIZE, 200 MiB).
- HEAD: a HEAD response carries no body, whatever the GET it ran.
- WEBHOOK VALUES LONGER THAN THEIR COLUMN: a validly signed callback with a 5,000-character CallSid (or CallStatus,
  Direction, AccountSid past their columns) is a 400.
"""

import io
import json
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.wsgi import get_wsgi_application
from django.test import Client

from contacts.models import Contact
from phone_calls.models import PhoneCall, RemotePhoneCallEvent
from scfm.limits import INTEGER_MAX
from tests.factories import CalloutFactory
from tests.phone_calls.webhook_helpers import (
    FORM,
    callback_params,
    outbound_call,
    provider_account,
    signed_post,
)

JSON = "application/json"
BIG = INTEGER_MAX + 1
NUL = "\u0000"
SURROGATE = "\ud800"
UNSTORABLE = [pytest.param(NUL, id="nul"), pytest.param(SURROGATE, id="lone-surrogate")]
MSISDN = "+85512345678"


@pytest.fixture
def api(make_client, account):
    client = make_client(account)
    return client


def _json(text: str) -> bytes:
    """JSON text as a client sends it: `\\ud800` escaped (a lone surrogate can't be UTF-8 encoded)."""
    return text.encode("utf-8")


def _errors(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert "errors" in body, body
    return body["errors"]


# unstorable text ------------------------------------------------------------------------------------------------
JSON_BODIES = {
    "metadata value": lambda bad: {"msisdn": MSISDN, "metadata": {"name": f"a{bad}b"}},
    "metadata key": lambda bad: {"msisdn": MSISDN, "metadata": {f"na{bad}me": "x"}},
    "nested metadata value": lambda bad: {"msisdn": MSISDN, "metadata": {"a": {"b": {"c": bad}}}},
    "metadata list item": lambda bad: {"msisdn": MSISDN, "metadata": {"tags": ["ok", bad]}},
    "top-level field": lambda bad: {"msisdn": MSISDN + bad},
    "unknown top-level key": lambda bad: {"msisdn": MSISDN, f"x{bad}": 1},
}


@pytest.mark.parametrize("bad", UNSTORABLE)
@pytest.mark.parametrize("shape", JSON_BODIES)
def test_json_body_is_a_422_naming_the_place_when_a_string_is_unstorable(api, bad, shape):
    body = json.dumps(JSON_BODIES[shape](bad))  # ensure_ascii: `\u0000`, `\ud800` escapes, as clients send them

    response = api.generic("POST", "/api/contacts", _json(body), content_type=JSON)

    assert response.status_code == 422
    assert _errors(response)
    assert not Contact.objects.exists()


@pytest.mark.parametrize("bad", UNSTORABLE)
def test_json_sent_as_a_form_is_a_422_when_a_string_is_unstorable(api, bad):
    body = json.dumps({"msisdn": MSISDN, "metadata": {"a": bad}})
    response = api.generic("POST", "/api/contacts", _json(body), content_type=FORM)
    assert response.status_code == 422
    assert "metadata.a" in _errors(response)


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(f"msisdn={MSISDN}&metadata[name]=a%00b", id="value"),
        pytest.param(f"msisdn={MSISDN}&metadata[na%00me]=x", id="key"),
        pytest.param(f"msisdn={MSISDN}%00", id="top-level"),
        pytest.param(f"[metadata][name]=a%00b&msisdn={MSISDN}", id="leading-bracket"),
    ],
)
def test_form_body_is_a_422_when_a_field_holds_a_nul(api, form):
    response = api.generic("POST", "/api/contacts", form.encode(), content_type=FORM)
    assert response.status_code == 422
    assert _errors(response)
    assert not Contact.objects.exists()


@pytest.mark.parametrize("field", ["metadata[name]", "msisdn"])
def test_multipart_field_is_a_422_when_it_holds_a_nul(api, field):
    data = {"msisdn": MSISDN, field: f"a{NUL}b"}
    response = api.post("/api/contacts", data, format="multipart")
    assert response.status_code == 422
    assert _errors(response)
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "q[msisdn]=a%00b",
        "q[metadata][name]=a%00b",
        "q[metadata][na%00me]=x",
        "q[created_at_after]=2024%00",
        "sort=id%00",
        "page=1%00",
        "per_page=%00",
        "unknown=%00",
        "q[status]=%00",
    ],
)
def test_query_string_is_a_422_when_a_parameter_holds_a_nul(api, query):
    path = "/api/callouts" if "status" in query else "/api/contacts"
    response = api.get(f"{path}?{query}")
    assert response.status_code == 422
    assert _errors(response)


def test_access_token_with_a_nul_is_a_401(anonymous):
    response = anonymous.get("/api/contacts?access_token=a%00b")
    assert response.status_code == 401
    assert _errors(response)


def test_bearer_token_with_a_nul_is_a_401(anonymous):
    response = anonymous.get("/api/contacts", HTTP_AUTHORIZATION="Bearer a\x00b")
    assert response.status_code == 401


def test_access_token_in_the_query_string_still_authenticates_when_it_is_valid(make_client):
    token = make_client().token.token
    assert Client().get(f"/api/contacts?access_token={token}").status_code == 200


# integers, floats ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "status"),
    [
        (f"page={INTEGER_MAX}", 200),  # past the last page: an empty page, whatever its number
        ("page=9223372036854775807&per_page=1000", 200),
        (f"page={BIG}", 422),
        (f"page=-{BIG + 1}", 422),
        ("page=99999999999999999999999999999999999999", 422),
        ("page=1" + "0" * 5000, 422),  # beyond Python's int() digit limit too
        ("page=abc", 422),
        ("page=1.5", 422),
        (f"per_page={INTEGER_MAX}", 200),  # capped at 1,000
        (f"per_page={BIG}", 422),
        ("page=0", 200),
        ("page=-5", 200),
    ],
)
def test_page_and_per_page_are_bounded_when_they_are_huge(api, query, status):
    response = api.get(f"/api/contacts?{query}")
    assert response.status_code == status, response.content[:300]
    if status == 422:
        assert set(_errors(response)) <= {"page", "per_page"}
    else:
        assert response.json() == []


@pytest.mark.parametrize(
    "path",
    [
        f"/api/contacts/{BIG}",
        f"/api/contacts/{INTEGER_MAX}",
        "/api/contacts/" + "9" * 40,
        f"/api/callouts/{BIG}/contacts",
        f"/api/callouts/{BIG}/callout_participations",
        f"/api/phone_calls/{BIG}",
        f"/api/batch_operations/{BIG}/preview/contacts",
    ],
)
def test_id_in_the_url_is_a_404_when_it_is_beyond_the_databases_range(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": "Not Found"}


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_id_in_the_url_is_a_404_when_writing_beyond_the_range(api, method):
    response = getattr(api, method)(f"/api/contacts/{BIG}", {"metadata": {"a": 1}}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "status"),
    [
        (f"q[callout_id]={BIG}", 422),
        (f"q[callout_id]=1,{BIG}", 422),
        (f"q[callout_id]={INTEGER_MAX}", 200),
        ("q[callout_id]=-1", 422),
        (f"q[contact_id]={BIG}", 422),
        (f"callout_id={BIG}", 422),  # the legacy unnested filter: the same rule
        (f"q[callout_filter_params][status]={BIG}", 200),  # a text column: any text is a value
    ],
)
def test_integer_filter_is_a_422_when_an_id_is_beyond_the_range(api, query, status):
    response = api.get(f"/api/callout_participations?{query}")
    assert response.status_code == status, response.content[:300]


@pytest.mark.parametrize(
    "query",
    [
        f"q[duration_gt]={BIG}",
        "q[duration_gt]=1e400",
        "q[duration_lteq]=-1e400",
        f"q[metadata][n.gt]={BIG}",
        "q[metadata][n.gt]=1e400",
        f"q[metadata][n]={BIG}",
    ],
)
def test_number_filter_is_never_a_500_when_the_number_is_huge(api, query):
    response = api.get(f"/api/phone_calls?{query}")
    assert response.status_code in (200, 422), response.content[:300]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(f"{BIG}", id="integer-2**63"),
        pytest.param(f"-{BIG + 1}", id="integer-below-min"),
        pytest.param("1e400", id="float-overflow"),
        pytest.param("NaN", id="nan"),
        pytest.param("Infinity", id="infinity"),
        pytest.param("-Infinity", id="minus-infinity"),
    ],
)
def test_json_number_is_a_422_when_no_column_can_hold_it(api, value):
    body = f'{{"msisdn": "{MSISDN}", "metadata": {{"n": {value}}}}}'
    response = api.generic("POST", "/api/contacts", body.encode(), content_type=JSON)
    assert response.status_code == 422
    assert "metadata.n" in _errors(response)
    assert not Contact.objects.exists()


def test_json_number_at_the_edge_of_the_range_is_stored(api):
    body = f'{{"msisdn": "{MSISDN}", "metadata": {{"n": {INTEGER_MAX}, "m": -{INTEGER_MAX + 1}}}}}'
    response = api.generic("POST", "/api/contacts", body.encode(), content_type=JSON)
    assert response.status_code == 201
    assert Contact.objects.get().metadata == {"n": INTEGER_MAX, "m": -INTEGER_MAX - 1}


# dates ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2024-02-30", 422),
        ("2023-02-29", 422),
        ("2023-13-01", 422),
        ("2023-00-10", 422),
        ("2024-02-30T10:00:00Z", 422),
        ("2024-02-29T25:00:00Z", 422),
        ("0001-01-01T00:00:00+01:00", 422),
        ("yesterday", 422),
        ("2024-02-29", 200),
        ("2024-02-29T10:00:00Z", 200),
        ("2024-02-29 10:00:00", 200),
        ("9999-12-31", 200),
        ("0001-01-01", 200),
    ],
)
@pytest.mark.parametrize("name", ["created_at_after", "created_at_or_before", "updated_at_before"])
def test_timestamp_filter_is_a_422_when_the_date_does_not_exist(api, value, status, name):
    response = api.get("/api/contacts", {f"q[{name}]": value})
    assert response.status_code == status, response.content[:300]
    if status == 422:
        assert name in _errors(response)["q"]


def test_timestamp_filter_inside_a_batch_operation_is_a_422_when_the_date_does_not_exist(api, account):
    callout = CalloutFactory(account=account)
    body = {
        "type": "BatchOperation::CalloutPopulation",
        "parameters": {"contact_filter_params": {"created_at_after": "2024-02-30"}},
    }
    response = api.post(f"/api/callouts/{callout.pk}/batch_operations", body, format="json")
    assert response.status_code in (201, 422)
    if response.status_code == 201:  # stored as given: previewing it is the 422
        preview = api.get(f"/api/batch_operations/{response.json()['id']}/preview/contacts")
        assert preview.status_code == 422


# nesting ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [33, 100, 1000, 100_000])
def test_json_body_is_a_422_when_nested_too_deep(api, depth):
    body = '{"msisdn": "' + MSISDN + '", "metadata": {"a": ' + "[" * depth + "]" * depth + "}}"
    response = api.generic("POST", "/api/contacts", body.encode(), content_type=JSON)
    assert response.status_code == 422
    assert _errors(response)
    assert not Contact.objects.exists()


def test_json_body_nested_20_deep_is_stored(api):
    nested: dict = {"leaf": 1}
    for _ in range(18):
        nested = {"n": nested}
    response = api.post("/api/contacts", {"msisdn": MSISDN, "metadata": nested}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("depth", [33, 5000])
def test_form_key_is_a_422_when_nested_too_deep(api, depth):
    form = f"msisdn=%2B85512345678&metadata{'[a]' * depth}=1"
    response = api.generic("POST", "/api/contacts", form.encode(), content_type=FORM)
    assert response.status_code == 422
    assert _errors(response)


@pytest.mark.parametrize("depth", [33, 5000])
def test_query_key_is_a_422_when_nested_too_deep(api, depth):
    response = api.get(f"/api/contacts?q[metadata]{'[a]' * depth}=1")
    assert response.status_code == 422
    assert _errors(response)


# sizes ------------------------------------------------------------------------------------------------------------
def test_body_of_10_mb_is_a_413_in_the_json_shape(api):
    body = json.dumps({"msisdn": MSISDN, "metadata": {"blob": "x" * 10_000_000}})
    response = api.generic("POST", "/api/contacts", body.encode(), content_type=JSON)
    assert response.status_code == 413
    assert _errors(response)
    assert not Contact.objects.exists()


def test_form_with_5000_fields_is_a_400_in_the_json_shape(api):
    form = "&".join(f"metadata[f{index}]=1" for index in range(5000))
    response = api.generic("POST", "/api/contacts", form.encode(), content_type=FORM)
    assert response.status_code == 400
    assert _errors(response)


def test_query_with_5000_parameters_is_a_400_in_the_json_shape(api):
    response = api.get("/api/contacts?" + "&".join(f"x{index}=1" for index in range(5000)))
    assert response.status_code == 400
    assert _errors(response)


def test_multipart_field_over_the_body_limit_is_a_413_in_the_json_shape(api):
    response = api.post("/api/contacts", {"msisdn": MSISDN, "metadata[blob]": "x" * 3_000_000}, format="multipart")
    assert response.status_code == 413
    assert _errors(response)


def test_contact_import_upload_larger_than_the_body_limit_is_accepted(api, settings):
    rows = b"".join(b"+8551%07d,Name %d\n" % (index, index) for index in range(150_000))  # ~3.5 MB
    upload = SimpleUploadedFile("contacts.csv", b"msisdn,name\n" + rows, "text/csv")
    assert len(rows) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api.post("/api/contact_imports", {"file": upload})
    assert response.status_code == 201, response.content[:300]


def test_upload_beyond_its_own_limit_is_a_413(api, settings):
    settings.SCFM_UPLOAD_MAX_SIZE = 1000
    upload = SimpleUploadedFile("contacts.csv", b"msisdn\n" + b"+85512345678\n" * 200, "text/csv")
    response = api.post("/api/contact_imports", {"file": upload})
    assert response.status_code == 413
    assert _errors(response)


def test_upload_limit_is_at_least_100_mb(settings):
    assert settings.SCFM_UPLOAD_MAX_SIZE >= 100 * 1000 * 1000


# HEAD -------------------------------------------------------------------------------------------------------------
def _wsgi(method: str, path: str, query: str = "", headers: dict | None = None) -> tuple[str, bytes]:
    """The status line and body the WSGI application sends (Django's test client would strip a HEAD body itself)."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        **(headers or {}),
    }
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"] = status

    chunks = get_wsgi_application()(environ, start_response)
    body = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return captured["status"], body


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "query"),
    [("/api/contacts", ""), ("/api/contacts", "page=abc"), ("/api/schema", ""), ("/health", ""), ("/nowhere", "")],
)
def test_head_response_has_no_body(make_client, path, query):
    token = make_client().token.token
    status, body = _wsgi("HEAD", path, query, {"HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert body == b"", status
    get_status, get_body = _wsgi("GET", path, query, {"HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert status == get_status


# webhooks ---------------------------------------------------------------------------------------------------------
WEBHOOKS = ["/twilio_webhooks/phone_call_events", "/api/remote_phone_call_events"]


@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize("name", ["AccountSid", "CallSid", "CallStatus", "From"])
def test_webhook_is_a_4xx_before_the_signature_check_when_a_parameter_holds_a_nul(db, path, name):
    provider_account()
    params = callback_params(**{name: f"AC1{NUL}"})
    response = Client().post(path, urlencode(params), content_type=FORM, HTTP_X_TWILIO_SIGNATURE="unsigned")
    assert response.status_code == 422
    assert name in _errors(response)
    assert not RemotePhoneCallEvent.objects.exists()


@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize(
    ("name", "length"),
    [("CallSid", 5000), ("CallSid", 256), ("CallStatus", 65), ("Direction", 65), ("AccountSid", 300)],
)
def test_signed_webhook_is_a_400_when_a_value_is_longer_than_its_column(db, path, name, length):
    account = provider_account()
    call = outbound_call(account)
    params = {**callback_params(CallStatus="ringing"), name: "C" * length}
    response = signed_post(Client(), f"{path}?phone_call_id={call.pk}", params)
    assert response.status_code == 400
    assert not RemotePhoneCallEvent.objects.exists()
    assert PhoneCall.objects.get().remote_call_id is None


@pytest.mark.parametrize("path", WEBHOOKS)
def test_signed_webhook_with_a_255_character_call_sid_is_stored(db, path):
    account = provider_account()
    call = outbound_call(account)
    response = signed_post(
        Client(), f"{path}?phone_call_id={call.pk}", callback_params("C" * 255, CallStatus="ringing")
    )
    assert response.status_code == 200
    assert PhoneCall.objects.get().remote_call_id == "C" * 255


def test_webhook_body_of_10_mb_is_a_413_in_the_json_shape(db):
    provider_account()
    body = urlencode(callback_params(Junk="x" * 10_000_000))
    response = Client().post(WEBHOOKS[0], body, content_type=FORM, HTTP_X_TWILIO_SIGNATURE="x")
    assert response.status_code == 413
    assert _errors(response)


def test_webhook_with_5000_fields_is_a_400_in_the_json_shape(db):
    provider_account()
    body = urlencode(callback_params()) + "&" + "&".join(f"x{index}=1" for index in range(5000))
    response = Client().post(WEBHOOKS[0], body, content_type=FORM, HTTP_X_TWILIO_SIGNATURE="x")
    assert response.status_code == 400
    assert _errors(response)


@pytest.mark.django_db(transaction=True)
def test_head_response_has_no_body_when_the_get_streams_a_file(make_client, account):
    from django.core.files.base import ContentFile

    from tests.phone_calls.test_recordings import make_recording

    recording = make_recording(account)
    recording.audio_file.save("RE.mp3", ContentFile(b"ID3fake-mp3-bytes"))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {make_client(account).token.token}"}

    status, body = _wsgi("HEAD", f"/api/recordings/{recording.pk}.mp3", headers=headers)

    assert (status, body) == ("200 OK", b"")
    assert _wsgi("GET", f"/api/recordings/{recording.pk}.mp3", headers=headers)[1] == b"ID3fake-mp3-bytes"
