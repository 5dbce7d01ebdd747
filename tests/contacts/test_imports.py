"""The CSV import service: typed columns, upsert by msisdn, bad rows by line, chunking, resuming."""

import io
import random

import phonenumbers
import pytest
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from contacts import bulk_upsert, csv_reading, imports
from contacts.models import Contact, ContactImport
from contacts.phone_numbers import fast_normalize_msisdn, normalize_msisdn
from scfm.errors import DomainError
from tests.factories import ContactFactory


def run(account, text: str) -> imports.ImportResult:
    return imports.import_contacts(account=account, stream=io.StringIO(text))


def metadata_of(account, msisdn: str) -> dict:
    return Contact.objects.get(account=account, msisdn=msisdn).metadata


def test_import_creates_contacts_with_other_columns_as_metadata_when_untyped(account):
    result = run(account, "msisdn,name,gender\n+252662345678,Kate,f\n252 66 234 5679,Bob,m\n")
    assert (result.processed_rows, result.created_count, result.updated_count, result.error_count) == (2, 2, 0, 0)
    assert metadata_of(account, "+252662345678") == {"name": "Kate", "gender": "f"}
    assert metadata_of(account, "+252662345679") == {"name": "Bob", "gender": "m"}


def test_import_converts_values_when_columns_declare_a_type(account):
    run(
        account,
        "name,msisdn,age:number,score:number,registered:boolean,date_of_birth:date,tags:list,code:string\n"
        "Kate,+252662345678,42,1.5,yes,1980-02-29,a | b||c,007\n",
    )
    assert metadata_of(account, "+252662345678") == {
        "name": "Kate",
        "age": 42,
        "score": 1.5,
        "registered": True,
        "date_of_birth": "1980-02-29",
        "tags": ["a", "b", "c"],
        "code": "007",
    }


def test_import_merges_metadata_into_existing_contacts_when_msisdn_matches(account):
    ContactFactory(account=account, msisdn="+252662345678", metadata={"name": "Old", "district": "1"})
    result = run(account, "msisdn,name\n252662345678,New\n")
    assert (result.created_count, result.updated_count) == (0, 1)
    assert metadata_of(account, "+252662345678") == {"name": "New", "district": "1"}
    assert Contact.objects.filter(account=account).count() == 1


def test_import_leaves_keys_untouched_when_cells_are_empty(account):
    ContactFactory(account=account, msisdn="+252662345678", metadata={"name": "Kate"})
    run(account, "msisdn,name,age:number\n+252662345678,,30\n")
    assert metadata_of(account, "+252662345678") == {"name": "Kate", "age": 30}


def test_import_reports_bad_rows_with_line_numbers_and_keeps_good_ones_when_rows_are_invalid(account):
    result = run(
        account,
        "msisdn,age:number,registered:boolean,born:date\n"
        "+252662345678,1,true,2000-01-01\n"
        "12,2,true,2000-01-01\n"
        "\n"
        "+252662345679,old,maybe,2000-13-01\n"
        ",3,no,\n"
        "+252662345680,4,no,,extra\n"
        "+252662345681,5,no,\n",
    )
    assert result.processed_rows == 6
    assert result.created_count == 2
    assert result.errors == [
        {"line": 3, "errors": {"msisdn": ["is invalid"]}},
        {
            "line": 5,
            "errors": {
                "age": ["is not a number"],
                "registered": ["is not a boolean (true/false, yes/no, 1/0)"],
                "born": ["is not a date (YYYY-MM-DD)"],
            },
        },
        {"line": 6, "errors": {"msisdn": ["can't be blank"]}},
        {"line": 7, "errors": {"base": ["has 5 columns, the header has 4"]}},
    ]
    assert set(Contact.objects.filter(account=account).values_list("msisdn", flat=True)) == {
        "+252662345678",
        "+252662345681",
    }


def test_import_merges_duplicates_in_file_order_when_a_number_repeats(account, monkeypatch):
    monkeypatch.setattr(csv_reading, "CHUNK_SIZE", 2)
    result = run(
        account,
        "msisdn,name,age:number\n"
        "+252662345678,First,1\n"
        "252662345678,Second,\n"
        "+252662345679,Other,5\n"
        "+252 66 234 5678,Third,3\n",
    )
    assert (result.processed_rows, result.created_count, result.updated_count) == (4, 2, 1)
    assert metadata_of(account, "+252662345678") == {"name": "Third", "age": 3}


def test_import_counts_every_chunk_when_file_is_larger_than_a_chunk(account, monkeypatch):
    monkeypatch.setattr(csv_reading, "CHUNK_SIZE", 3)
    monkeypatch.setattr(bulk_upsert, "SQLITE_BATCH", 2)
    seen = []
    rows = "".join(f"+2526623{n:05d},{n}\n" for n in range(10))
    result = imports.import_contacts(
        account=account,
        stream=io.StringIO("msisdn,n:number\n" + rows),
        on_chunk=lambda r: seen.append(r.processed_rows),
    )
    assert seen == [3, 6, 9, 10]
    assert result.created_count == 10
    assert Contact.objects.get(account=account, msisdn="+252662300007").metadata == {"n": 7}


def test_import_leaves_other_accounts_contacts_alone_when_numbers_overlap(account, other_account):
    theirs = ContactFactory(account=other_account, msisdn="+252662345678", metadata={"name": "Theirs"})
    result = run(account, "msisdn,name\n+252662345678,Mine\n")
    assert result.created_count == 1
    theirs.refresh_from_db()
    assert theirs.metadata == {"name": "Theirs"}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("name,phone", "has no msisdn column"),
        ("msisdn,age:numbr", "column 'age:numbr' has an unknown type 'numbr' (one of string, number, boolean, "),
        ("msisdn,name,name", "has the column 'name' twice"),
        ("msisdn,,name", "column 2 of the header has no name"),
    ],
)
def test_import_rejects_the_file_when_header_is_malformed(account, header, message):
    with pytest.raises(DomainError) as raised:
        run(account, header + "\n+252662345678,x,y\n")
    assert raised.value.errors["file"][0].startswith(message)


def test_check_csv_rejects_binary_files_when_they_are_not_text():
    with pytest.raises(DomainError) as raised:
        csv_reading.check_csv(io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    assert raised.value.errors == {"file": ["has a NUL character on line 3: it is not a CSV file"]}


def test_check_csv_accepts_a_byte_order_mark_when_excel_wrote_the_file():
    csv_format = csv_reading.check_csv(io.BytesIO("\ufeffMSISDN,name\n".encode()))
    assert csv_format.header.msisdn_index == 0


def test_check_csv_counts_data_rows_when_last_line_has_no_newline_or_cells_span_lines():
    assert csv_reading.check_csv(io.BytesIO(b"msisdn\n1\n2\n3")).rows == 3
    assert csv_reading.check_csv(io.BytesIO(b"msisdn\n1\n2\n3\n\n")).rows == 3
    assert csv_reading.check_csv(io.BytesIO(b'msisdn,note\n1,"a\nb\nc"\n2,x\n')).rows == 2


def test_fast_normalize_agrees_with_phonenumbers_when_numbers_are_random():
    rng = random.Random(20240601)
    for country_code in COUNTRY_CODE_TO_REGION_CODE:
        for _ in range(40):
            digits = str(country_code) + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 15)))
            for value in (digits, "+" + digits):
                assert fast_normalize_msisdn(value) == normalize_msisdn(value), value


def test_fast_normalize_agrees_with_phonenumbers_when_numbers_are_formatted():
    for value in ["+1 (202) 555-0143", "00252662345678", "0662345678", "+44 020 7946 0018", "+39 06 6982", "abc"]:
        assert fast_normalize_msisdn(value) == normalize_msisdn(value)
    example = phonenumbers.example_number("KH")
    assert fast_normalize_msisdn(str(example.country_code) + str(example.national_number)) is not None


# ContactImport runs ------------------------------------------------------------------------------------------------
def make_import(account, text: bytes, **fields) -> ContactImport:
    from django.core.files.base import ContentFile

    contact_import = ContactImport(account=account, filename="contacts.csv", **fields)
    contact_import.file.save("contacts.csv", ContentFile(text), save=False)
    contact_import.save()
    return contact_import


def test_run_finishes_with_counters_when_import_is_queued(account):
    contact_import = make_import(account, b"msisdn,name\n+252662345678,Kate\nbad,Bob\n", total_rows=2)
    done = imports.contact_import_run(contact_import_id=contact_import.pk)
    assert done.status == ContactImport.Status.FINISHED
    assert (done.total_rows, done.processed_rows, done.created_count, done.error_count) == (2, 2, 1, 1)
    assert done.error_rows == [{"line": 3, "errors": {"msisdn": ["is invalid: 'b' is not part of a phone number"]}}]
    assert done.started_at is not None and done.finished_at is not None


def test_run_resumes_after_committed_rows_when_task_is_redelivered(account):
    contact_import = make_import(
        account,
        b"msisdn,name\n+252662345678,Kate\n+252662345679,Bob\n",
        status=ContactImport.Status.RUNNING,
        processed_rows=1,
        created_count=1,
    )
    done = imports.contact_import_run(contact_import_id=contact_import.pk)
    assert (done.processed_rows, done.created_count) == (2, 2)
    assert list(Contact.objects.filter(account=account).values_list("msisdn", flat=True)) == ["+252662345679"]


def test_run_does_nothing_when_import_is_already_finished(account):
    contact_import = make_import(account, b"msisdn\n+252662345678\n", status=ContactImport.Status.FINISHED)
    assert imports.contact_import_run(contact_import_id=contact_import.pk) is None
    assert not Contact.objects.exists()


def test_run_marks_the_import_failed_before_any_row_when_file_is_neither_utf8_nor_windows_1252(account):
    contact_import = make_import(account, b"msisdn,name\n+252662345678,Kate\n+252662345679,\xe9\x81\n")
    done = imports.contact_import_run(contact_import_id=contact_import.pk)
    assert done.status == ContactImport.Status.FAILED
    assert done.error_message == (
        "file is neither UTF-8 nor Windows-1252 text: line 3 is not UTF-8, line 3 is not Windows-1252 "
        "(save the file as UTF-8)"
    )
    assert not Contact.objects.exists()
