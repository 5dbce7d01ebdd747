"""Phone numbers as spreadsheets, phones and documents write them (issue 11, section 1), on every entry point.

One normaliser (contacts/phone_numbers.py) serves every entry point; each family below is a row of a table run
against the normaliser and against each entry point: POST /api/contacts (JSON and form), PATCH /api/contacts/:id,
POST /api/contact_data, POST /api/callouts/:id/callout_participations, the CSV import (service, command and API),
q[msisdn] filters, and a provider webhook's From. Every written form either is stored as the number meant, or is a
422 naming the cause: never another number.
"""

import csv
import io
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from twilio.request_validator import RequestValidator

from callouts.models import CalloutParticipation
from contacts import imports
from contacts.models import Contact, ContactImport
from contacts.phone_numbers import (
    BLANK,
    CHARACTERS,
    FRACTION,
    INVALID,
    NATIONAL,
    NO_COUNTRY_CODE,
    SCIENTIFIC,
    fast_normalize_msisdn,
    msisdn_or_error,
    normalize_msisdn,
    valid_msisdn,
)
from scfm.errors import DomainError
from tests.factories import AccountFactory, CalloutFactory, ContactFactory, PhoneCallFactory

NUMBER = "+85512345678"
FORM = "application/x-www-form-urlencoded"

# (family, written, the E.164 number meant)
ACCEPTED = [
    ("plain E.164", "+85512345678", NUMBER),
    ("without plus", "85512345678", NUMBER),
    ("00 international prefix", "0085512345678", NUMBER),
    ("spaces, dashes, brackets", "+855 (12) 345-678", NUMBER),
    ("dots and slashes", "+855.12.345/678", NUMBER),
    ("(0) national prefix after the country code", "+44 (0) 20 7946 0000", "+442079460000"),
    # spreadsheets and JSON render a number column as floats, with or without grouping, in any locale
    ("spreadsheet float", "85512345678.0", NUMBER),
    ("spreadsheet float, two decimals", "+85512345678.00", NUMBER),
    ("spreadsheet float, decimal comma", "85512345678,0", NUMBER),
    ("thousands grouping", "85,512,345,678", NUMBER),
    ("thousands grouping and decimals (en)", "85,512,345,678.00", NUMBER),
    ("thousands grouping and decimals (de)", "85.512.345.678,00", NUMBER),
    ("thousands grouping with apostrophes (ch)", "85'512'345'678", NUMBER),
    # invisible characters phones, word processors and PDFs put around or inside a number
    ("bidi embedding LRO/PDF", "\u202d+855 12 345 678\u202c", NUMBER),
    ("bidi embedding RLE/LRE", "\u202b\u202a+85512345678\u202c\u202c", NUMBER),
    ("bidi isolates", "\u2066+85512345678\u2069", NUMBER),
    ("first strong isolate", "\u2068+855 12 345 678\u2069", NUMBER),
    ("LRM and RLM", "\u200e+85512345678\u200f", NUMBER),
    ("zero-width space, non-joiner, joiner", "+855\u200b12\u200c345\u200d678", NUMBER),
    ("word joiner", "+855\u206012\u2060345678", NUMBER),
    ("byte-order mark", "\ufeff+85512345678", NUMBER),
    ("soft hyphen", "+855\u00ad12\u00ad345678", NUMBER),
    ("no-break spaces", "+855\u00a012\u202f345\u00a0678", NUMBER),
    ("other Unicode spaces", "\u2003+855\u200912\u2007345\u3000678\u205f", NUMBER),
    ("tabs and line breaks", "\t+855 12\n345 678\r\n", NUMBER),
    ("Unicode dashes and minus", "+855\u201012\u2013345\u2014678\u2212", NUMBER),
    ("non-breaking hyphen", "+855\u201112\u2011345\u2011678", NUMBER),
    # compatibility forms and digits of other scripts
    (
        "fullwidth digits and plus",
        "\uff0b\uff18\uff15\uff15 \uff11\uff12 \uff13\uff14\uff15 \uff16\uff17\uff18",
        NUMBER,
    ),
    ("fullwidth brackets", "+855\uff0812\uff09345678", NUMBER),
    ("Arabic-Indic digits", "+\u0668\u0665\u0665\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668", NUMBER),
    ("Persian digits", "\u06f8\u06f5\u06f5\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8", NUMBER),
    ("Khmer digits", "+\u17e8\u17e5\u17e5 \u17e1\u17e2 \u17e3\u17e4\u17e5 \u17e6\u17e7\u17e8", NUMBER),
    ("Devanagari digits", "+\u096e\u096b\u096b\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e", NUMBER),
    (
        "RTL mark and Arabic-Indic digits",
        "\u200f+\u0668\u0665\u0665 \u0661\u0662 \u0663\u0664\u0665 \u0666\u0667\u0668",
        NUMBER,
    ),
]

# (family, written, the message of the 422)
REFUSED = [
    ("scientific notation", "8.55123E+11", SCIENTIFIC.format(text="8.55123E+11")),
    ("scientific notation, lower case", "8.55123e11", SCIENTIFIC.format(text="8.55123e11")),
    ("scientific notation, decimal comma", "8,55123E+11", SCIENTIFIC.format(text="8,55123E+11")),
    ("scientific notation, all digits", "8.5512345678E+10", SCIENTIFIC.format(text="8.5512345678E+10")),
    ("a fraction", "85512345678.5", FRACTION.format(text="85512345678.5")),
    ("a fraction, decimal comma", "85512345678,25", FRACTION.format(text="85512345678,25")),
    ("national number", "012 345 678", NATIONAL),
    ("national number as a spreadsheet float", "012345678.0", NATIONAL),
    ("leading zero dropped (012 345 678)", "12345678", NO_COUNTRY_CODE),
    ("leading zero dropped, as a float", "12345678.0", NO_COUNTRY_CODE),
    ("too short", "1234", INVALID),
    ("impossible length with plus", "+8551234", INVALID),
    ("only dialable locally", "+12345678", INVALID),
    ("letter O for zero", "+855 12 345 67O", CHARACTERS.format(char="'O'")),
    ("extension", "+85512345678 ext 9", CHARACTERS.format(char="'e'")),
    ("words", "anonymous", CHARACTERS.format(char="'a'")),
    ("a plus sign inside (right-to-left override)", "\u202e876543215558+", CHARACTERS.format(char="'+'")),
    ("a control character", "+855\x0712345678", CHARACTERS.format(char="'\\x07'")),
    ("only invisible characters", "\u200b\u202c\ufeff", BLANK),
    ("only separators", "+ - ()", INVALID),
]

# JSON numbers: the value is the number (a JSON parser keeps no rendering to look at)
JSON_NUMBERS = [
    ("JSON integer", 85512345678, NUMBER),
    ("JSON float", 85512345678.0, NUMBER),
    ("JSON float, another number", 85523456789.0, "+85523456789"),
]
JSON_REFUSED = [
    ("JSON float with a fraction", 85512345678.5, FRACTION.format(text="85512345678.5")),
    ("JSON float too large for its digits", 1e16, SCIENTIFIC.format(text="1e+16")),
    ("JSON true", True, INVALID),
]


def ids(table):
    return [row[0] for row in table]


accepted = pytest.mark.parametrize(("family", "written", "meant"), ACCEPTED, ids=ids(ACCEPTED))
refused = pytest.mark.parametrize(("family", "written", "message"), REFUSED, ids=ids(REFUSED))


# the normaliser ----------------------------------------------------------------------------------------------------
@accepted
def test_normaliser_reads_the_number_meant_when_written_in_an_accepted_family(family, written, meant):
    assert msisdn_or_error(written) == (meant, None)
    assert normalize_msisdn(written) == meant == valid_msisdn(written)
    assert fast_normalize_msisdn(written) == meant


@refused
def test_normaliser_names_the_cause_when_written_in_a_refused_family(family, written, message):
    assert msisdn_or_error(written) == (None, message)
    assert normalize_msisdn(written) is None
    assert fast_normalize_msisdn(written) is None
    with pytest.raises(DomainError) as raised:
        valid_msisdn(written, field="to")
    assert raised.value.errors == {"to": [message]}


@pytest.mark.parametrize(("family", "value", "meant"), JSON_NUMBERS, ids=ids(JSON_NUMBERS))
def test_normaliser_reads_numbers_when_they_are_whole(family, value, meant):
    assert normalize_msisdn(value) == meant


# API: contacts, contact_data, callout participations --------------------------------------------------------------
@accepted
def test_contacts_create_stores_the_number_meant_when_json(client_for, account, family, written, meant):
    response = client_for.post("/api/contacts", {"msisdn": written}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["msisdn"] == meant
    assert list(Contact.objects.filter(account=account).values_list("msisdn", flat=True)) == [meant]


@accepted
def test_contacts_create_stores_the_number_meant_when_form_encoded(client_for, account, family, written, meant):
    response = client_for.post("/api/contacts", urlencode({"msisdn": written}), content_type=FORM)
    assert response.status_code == 201, response.json()
    assert response.json()["msisdn"] == meant


@refused
def test_contacts_create_is_unprocessable_naming_the_cause_when_refused(client_for, account, family, written, message):
    response = client_for.post("/api/contacts", {"msisdn": written}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"msisdn": [message]}}
    assert not Contact.objects.exists()


@pytest.mark.parametrize(("family", "value", "meant"), JSON_NUMBERS, ids=ids(JSON_NUMBERS))
def test_contacts_create_stores_the_number_when_json_number_is_whole(client_for, family, value, meant):
    response = client_for.post("/api/contacts", {"msisdn": value}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["msisdn"] == meant


@pytest.mark.parametrize(("family", "value", "message"), JSON_REFUSED, ids=ids(JSON_REFUSED))
def test_contacts_create_is_unprocessable_when_json_number_is_not_whole(client_for, family, value, message):
    response = client_for.post("/api/contacts", {"msisdn": value}, format="json")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["msisdn"]
    assert not Contact.objects.exists()


@accepted
def test_contacts_update_stores_the_number_meant(client_for, account, family, written, meant):
    contact = ContactFactory(account=account, msisdn="+252662345678")
    response = client_for.patch(f"/api/contacts/{contact.pk}", {"msisdn": written}, format="json")
    assert response.status_code in (200, 204)
    contact.refresh_from_db()
    assert contact.msisdn == meant


@refused
def test_contacts_update_is_unprocessable_and_keeps_the_number_when_refused(
    client_for, account, family, written, message
):
    contact = ContactFactory(account=account, msisdn="+252662345678")
    response = client_for.patch(f"/api/contacts/{contact.pk}", {"msisdn": written}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"msisdn": [message]}}
    contact.refresh_from_db()
    assert contact.msisdn == "+252662345678"


@accepted
def test_contact_data_updates_the_contact_meant(client_for, account, family, written, meant):
    contact = ContactFactory(account=account, msisdn=meant, metadata={"a": 1})
    response = client_for.post("/api/contact_data", {"msisdn": written, "metadata": {"b": 2}}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["id"] == contact.pk
    assert Contact.objects.get(account=account).metadata == {"a": 1, "b": 2}


@refused
def test_contact_data_is_unprocessable_naming_the_cause_when_refused(client_for, account, family, written, message):
    response = client_for.post("/api/contact_data", {"msisdn": written}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"msisdn": [message]}}
    assert not Contact.objects.exists()


@accepted
def test_callout_participation_stores_the_number_meant(client_for, account, family, written, meant):
    callout = CalloutFactory(account=account)
    contact = ContactFactory(account=account)
    response = client_for.post(
        f"/api/callouts/{callout.pk}/callout_participations",
        {"contact_id": contact.pk, "msisdn": written},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert CalloutParticipation.objects.get(callout=callout).msisdn == meant


@refused
def test_callout_participation_is_unprocessable_naming_the_cause_when_refused(
    client_for, account, family, written, message
):
    if message == BLANK:
        pytest.skip("a participation without a msisdn takes its contact's")
    callout = CalloutFactory(account=account)
    contact = ContactFactory(account=account)
    response = client_for.post(
        f"/api/callouts/{callout.pk}/callout_participations",
        {"contact_id": contact.pk, "msisdn": written},
        format="json",
    )
    assert response.status_code == 422
    assert response.json() == {"errors": {"msisdn": [message]}}
    assert not CalloutParticipation.objects.exists()


# q[msisdn] filters -------------------------------------------------------------------------------------------------
@accepted
def test_msisdn_filter_finds_the_number_meant(client_for, account, family, written, meant):
    contact = ContactFactory(account=account, msisdn=meant)
    ContactFactory(account=account)
    for query in ({"q[msisdn]": written}, {"msisdn": written}):
        response = client_for.get("/api/contacts", query)
        assert response.status_code == 200
        assert [row["id"] for row in response.json()] == [contact.pk], query


@refused
def test_msisdn_filter_is_unprocessable_naming_the_value_when_refused(client_for, account, family, written, message):
    if "," in written:
        pytest.skip("q[msisdn] takes a comma-separated list of numbers: a comma separates numbers there")
    ContactFactory(account=account, msisdn=NUMBER)
    response = client_for.get("/api/contacts", {"q[msisdn]": written})
    assert response.status_code == 422
    assert response.json() == {"errors": {"q": {"msisdn": [f"{written.strip()!r} {message}"]}}}


def test_msisdn_filter_matches_either_number_when_given_a_list(client_for, account):
    first = ContactFactory(account=account, msisdn=NUMBER)
    second = ContactFactory(account=account, msisdn="+85512345679")
    ContactFactory(account=account)
    response = client_for.get("/api/contacts", {"q[msisdn]": "+855 12 345 678, 85512345679.0", "sort": "id"})
    assert [row["id"] for row in response.json()] == [first.pk, second.pk]


@pytest.mark.parametrize("path", ["/api/callout_participations", "/api/phone_calls"])
@pytest.mark.parametrize(
    "written",
    [
        "\u202d+855 12 345 678\u202c",
        "85512345678.0",
        "+\u17e8\u17e5\u17e5\u17e1\u17e2\u17e3\u17e4\u17e5\u17e6\u17e7\u17e8",
    ],
)
def test_msisdn_filter_of_participations_and_calls_finds_the_number_meant(client_for, account, path, written):
    call = PhoneCallFactory(
        callout_participation__callout__account=account, callout_participation__contact__msisdn=NUMBER
    )
    PhoneCallFactory(callout_participation__callout__account=account)
    response = client_for.get(path, {"q[msisdn]": written})
    assert response.status_code == 200
    expected = call.callout_participation_id if "participations" in path else call.pk
    assert [row["id"] for row in response.json()] == [expected]


# CSV imports: a cell as a spreadsheet writes it ------------------------------------------------------------------
def csv_text(*cells: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["msisdn", "name"])
    for cell in cells:
        writer.writerow([cell, "Kate"])
    return out.getvalue()


@accepted
def test_csv_import_stores_the_number_meant(account, family, written, meant):
    if "\n" in written or "\r" in written:
        written = written.replace("\r", "").replace("\n", " ")  # a line break in a cell is quoted; keep one line
    result = imports.import_contacts(account=account, stream=io.StringIO(csv_text(written)))
    assert (result.created_count, result.errors) == (1, [])
    assert list(Contact.objects.filter(account=account).values_list("msisdn", flat=True)) == [meant]


@refused
def test_csv_import_rejects_the_row_naming_the_cause_when_refused(account, family, written, message):
    result = imports.import_contacts(account=account, stream=io.StringIO(csv_text(NUMBER, written)))
    assert result.created_count == 1
    assert result.errors == [{"line": 3, "errors": {"msisdn": [message]}}]
    assert list(Contact.objects.values_list("msisdn", flat=True)) == [NUMBER]


def test_csv_import_through_the_api_reads_every_accepted_family(
    client_for, account, django_capture_on_commit_callbacks
):
    cells = [written.replace("\r", "").replace("\n", " ") for _family, written, meant in ACCEPTED if meant == NUMBER]
    refused_cells = [written for _family, written, _message in REFUSED]
    content = ("\ufeff" + csv_text(*cells, *refused_cells)).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for.post("/api/contact_imports", {"file": SimpleUploadedFile("c.csv", content, "text/csv")})
    assert response.status_code == 201, response.json()
    done = ContactImport.objects.get(pk=response.json()["id"])
    assert (done.status, done.processed_rows, done.created_count) == ("finished", len(cells) + len(REFUSED), 1)
    assert [row["errors"]["msisdn"] for row in done.error_rows] == [[message] for _f, _w, message in REFUSED]
    assert list(Contact.objects.values_list("msisdn", flat=True)) == [NUMBER]


# provider webhooks: the caller's From ------------------------------------------------------------------------------
WEBHOOK = "/twilio_webhooks/phone_call_events"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "twilio-secret-token"


def inbound_call(written: str):
    account = AccountFactory(twilio_account_sid=TWILIO_SID, twilio_auth_token=TWILIO_TOKEN)
    params = {
        "CallSid": "CA-inbound-1",
        "AccountSid": TWILIO_SID,
        "From": written,
        "To": "+85523000000",
        "Direction": "inbound",
        "CallStatus": "ringing",
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(settings.SCFM_PUBLIC_URL + WEBHOOK, params)
    response = Client().post(WEBHOOK, urlencode(params), content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature)
    return account, response


@accepted
def test_webhook_stores_the_caller_as_the_number_meant(db, family, written, meant):
    account, response = inbound_call(written)
    assert response.status_code == 200
    assert list(Contact.objects.filter(account=account).values_list("msisdn", flat=True)) == [meant]


@refused
def test_webhook_never_stores_another_number_when_caller_is_refused(db, family, written, message):
    account, response = inbound_call(written)
    assert response.status_code < 500
    assert not Contact.objects.filter(account=account).exists()


# settings holding numbers ------------------------------------------------------------------------------------------
def test_ews_feedback_numbers_are_read_like_every_other_number(settings):
    from call_flow_logic.ews_registration import feedback_msisdns

    settings.SCFM_EWS_FEEDBACK_MSISDNS = "\u202d+855 12 345 678\u202c, 85512345679.0,+252660000001"
    assert feedback_msisdns() == {NUMBER, "+85512345679", "+252660000001"}
