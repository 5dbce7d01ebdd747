"""CSV files as spreadsheet programs save them (issue 11, section 2), through the API and the import_contacts command.

Families covered:
- dialects: `,` (LibreOffice, Excel en), `;` (Excel in European locales, with a UTF-8 BOM and CRLF, or in
  Windows-1252), tab (Excel "Text (Tab delimited)" and "Unicode Text" in UTF-16), Excel's `sep=;` first line;
  LF, CRLF and CR line ends; a header naming no msisdn column under any delimiter is refused saying what it reads;
- encodings: UTF-8 with and without BOM, UTF-16 with BOM, Windows-1252 (first accented name on row 10,501 of
  12,000: imported whole, names right); a file mixing UTF-8 and other bytes, or with bytes neither UTF-8 nor
  Windows-1252, or with a NUL, is refused whole before any row is written, naming the line;
- records: errors name the line where the record starts, also when a quoted cell spans several lines; a quote
  never closed or text after a closing quote refuses the file whole, naming the line.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from contacts import csv_reading
from contacts.models import Contact, ContactImport
from contacts.phone_numbers import SCIENTIFIC
from scfm.errors import DomainError

BOM = "\ufeff"


def upload(client, content: bytes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/api/contact_imports", {"file": SimpleUploadedFile("contacts.csv", content, "text/csv")})


def command(account, tmp_path, content: bytes) -> str:
    path = tmp_path / "contacts.csv"
    path.write_bytes(content)
    stdout = io.StringIO()
    call_command("import_contacts", "--account-id", str(account.pk), str(path), stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def names(account) -> dict[str, str]:
    return dict(Contact.objects.filter(account=account).values_list("msisdn", "metadata__name"))


# files as programs save them: (program, bytes)
EXCEL_EUROPEAN_UTF8 = (
    BOM + "msisdn;name;district\r\n+855 12 345 678;Zoé Lefèvre;Phnom Penh\r\n85512345679;Jürgen;Kampot\r\n"
).encode()
EXCEL_EUROPEAN_1252 = (
    "msisdn;name;district\r\n+855 12 345 678;Zoé Lefèvre;Phnom Penh\r\n85512345679;Jürgen;Kampot\r\n".encode("cp1252")
)
EXCEL_SEP_LINE = (
    "sep=;\r\nmsisdn;name;district\r\n+855 12 345 678;Zoé Lefèvre;Phnom Penh\r\n85512345679;Jürgen;Kampot\r\n".encode(
        "cp1252"
    )
)
EXCEL_TAB_1252 = (
    "msisdn\tname\tdistrict\r\n+855 12 345 678\tZoé Lefèvre\tPhnom Penh\r\n85512345679\tJürgen\tKampot\r\n".encode(
        "cp1252"
    )
)
EXCEL_UNICODE_TEXT = (
    "msisdn\tname\tdistrict\r\n+855 12 345 678\tZoé Lefèvre\tPhnom Penh\r\n85512345679\tJürgen\tKampot\r\n".encode(
        "utf-16"
    )
)
LIBREOFFICE = 'msisdn,name,district\n+855 12 345 678,Zoé Lefèvre,"Phnom Penh"\n85512345679,Jürgen,Kampot\n'.encode()
GOOGLE_SHEETS = "msisdn,name,district\r\n+855 12 345 678,Zoé Lefèvre,Phnom Penh\r\n85512345679,Jürgen,Kampot".encode()
OLD_MAC_CR = "msisdn,name,district\r+855 12 345 678,Zoé Lefèvre,Phnom Penh\r85512345679,Jürgen,Kampot\r".encode()
FILES = [
    ("Excel CSV UTF-8, European locale (BOM, ;, CRLF)", EXCEL_EUROPEAN_UTF8),
    ("Excel CSV, European locale (Windows-1252, ;, CRLF)", EXCEL_EUROPEAN_1252),
    ("Excel with a sep=; line", EXCEL_SEP_LINE),
    ("Excel Text (Tab delimited), Windows-1252", EXCEL_TAB_1252),
    ("Excel Unicode Text (UTF-16, tab)", EXCEL_UNICODE_TEXT),
    ("LibreOffice (UTF-8, LF)", LIBREOFFICE),
    ("Google Sheets (UTF-8, CRLF, no final line end)", GOOGLE_SHEETS),
    ("CR line ends", OLD_MAC_CR),
]
EXPECTED = {"+85512345678": "Zoé Lefèvre", "+85512345679": "Jürgen"}
files = pytest.mark.parametrize(("program", "content"), FILES, ids=[program for program, _ in FILES])


@files
def test_api_imports_every_row_when_a_spreadsheet_program_saved_the_file(
    client_for, account, django_capture_on_commit_callbacks, program, content
):
    response = upload(client_for, content, django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.json()
    assert response.json()["total_rows"] == 2
    done = ContactImport.objects.get(pk=response.json()["id"])
    assert (done.status, done.created_count, done.error_rows) == ("finished", 2, [])
    assert names(account) == EXPECTED
    assert Contact.objects.get(msisdn="+85512345678").metadata["district"] == "Phnom Penh"


@files
def test_command_imports_every_row_when_a_spreadsheet_program_saved_the_file(account, tmp_path, program, content):
    stdout = command(account, tmp_path, content)
    assert "Imported 2 rows" in stdout and "2 created, 0 updated, 0 rejected" in stdout
    assert names(account) == EXPECTED


def test_excel_european_row_is_rejected_naming_the_cause_when_a_number_was_saved_in_scientific_notation(
    account, tmp_path
):
    content = (BOM + "msisdn;name\r\n85512345678;Kate\r\n8,55123E+11;Bob\r\n").encode()
    stdout = command(account, tmp_path, content)
    assert f"line 3: msisdn {SCIENTIFIC.format(text='8,55123E+11')}" in stdout
    assert list(Contact.objects.values_list("msisdn", flat=True)) == ["+85512345678"]


@pytest.mark.parametrize(
    ("content", "first_line"),
    [(b"phone;name\r\n+85512345678;Kate\r\n", "phone;name"), (b"telephone\tname\n1\tx\n", "telephone\\tname")],
)
def test_api_is_unprocessable_saying_what_the_header_reads_when_no_delimiter_gives_a_msisdn_column(
    client_for, django_capture_on_commit_callbacks, content, first_line
):
    response = upload(client_for, content, django_capture_on_commit_callbacks)
    assert response.status_code == 422
    assert response.json() == {
        "errors": {
            "file": [
                f"has no msisdn column (its first line reads '{first_line}'; columns may be separated by ',', ';' "
                "or tab)"
            ]
        }
    }


def test_dialect_is_the_delimiter_that_makes_msisdn_a_column():
    assert csv_reading.detect_dialect("msisdn;name,with comma\n").delimiter == ";"
    assert csv_reading.detect_dialect("name,msisdn,x;y\n").delimiter == ","
    assert csv_reading.detect_dialect("msisdn\tname;x,y\n").delimiter == "\t"
    assert csv_reading.detect_dialect("msisdn\n+85512345678\n").delimiter == ","
    assert csv_reading.detect_dialect("sep=|\nmsisdn|name\n") == csv_reading.Dialect(delimiter="|", sep_line=True)


# encodings ---------------------------------------------------------------------------------------------------------
ROWS = 12_000
FIRST_ACCENT = 10_501  # the data row whose name is the first accented one


def big_file(name_of) -> list[str]:
    lines = ["msisdn,name"]
    for row in range(1, ROWS + 1):
        lines.append(f"+8551{row:07d},{name_of(row)}")
    return lines


def test_api_imports_a_windows_1252_file_whole_when_the_first_accented_name_is_on_row_10501(
    client_for, account, django_capture_on_commit_callbacks
):
    lines = big_file(lambda row: "Zoé" if row >= FIRST_ACCENT else "Kate")
    content = "\r\n".join(lines).encode("cp1252") + b"\r\n"
    response = upload(client_for, content, django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.json()
    done = ContactImport.objects.get(pk=response.json()["id"])
    assert (done.status, done.total_rows, done.processed_rows, done.created_count) == ("finished", ROWS, ROWS, ROWS)
    assert Contact.objects.get(msisdn=f"+8551{FIRST_ACCENT:07d}").metadata == {"name": "Zoé"}
    assert Contact.objects.filter(metadata__name="Zoé").count() == ROWS - FIRST_ACCENT + 1


def mixed_file() -> bytes:
    """UTF-8 names up to row 10,500, then one Windows-1252 name: what concatenating two exports produces."""
    lines = big_file(lambda row: "Zoé")
    head = "\n".join(lines[:FIRST_ACCENT]).encode()
    bad = lines[FIRST_ACCENT].encode("cp1252")
    return head + b"\n" + bad + b"\n" + "\n".join(lines[FIRST_ACCENT + 1 :]).encode() + b"\n"


MIXED_MESSAGE = (
    f"is not UTF-8 text: line {FIRST_ACCENT + 1} has bytes that are not UTF-8 while other lines are UTF-8 "
    "(save the file again as UTF-8)"
)


def test_api_refuses_the_file_whole_naming_the_line_when_utf8_and_other_bytes_mix(
    client_for, django_capture_on_commit_callbacks
):
    response = upload(client_for, mixed_file(), django_capture_on_commit_callbacks)
    assert response.status_code == 422
    assert response.json() == {"errors": {"file": [MIXED_MESSAGE]}}
    assert not ContactImport.objects.exists() and not Contact.objects.exists()


def test_command_refuses_the_file_whole_naming_the_line_when_utf8_and_other_bytes_mix(account, tmp_path):
    with pytest.raises(CommandError, match=f"line {FIRST_ACCENT + 1} has bytes that are not UTF-8"):
        command(account, tmp_path, mixed_file())
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"msisdn,name\n+85512345678,Kate\n+85512345679,\x81\x8d\n",
            "is neither UTF-8 nor Windows-1252 text: line 3 is not UTF-8, line 3 is not Windows-1252 "
            "(save the file as UTF-8)",
        ),
        (
            b"msisdn,name\n+85512345678,Kate\n+85512345679,\xe9\n+85512345670,\x90\n",
            "is neither UTF-8 nor Windows-1252 text: line 3 is not UTF-8, line 4 is not Windows-1252 "
            "(save the file as UTF-8)",
        ),
        (
            b"msisdn,name\r\n+85512345678,Kate\r\n+85512345679,K\x00te\r\n",
            "has a NUL character on line 3: it is not a CSV file",
        ),
        (
            ("msisdn,name\n" + "+85512345678,Kate\n" * 5000 + "+85512345679,K\x00te\n").encode(),
            "has a NUL character on line 5002: it is not a CSV file",
        ),
        (
            "msisdn\tname\r\n+85512345678\tK\x00te\r\n".encode("utf-16"),
            "has a NUL character on line 2: it is not a CSV file",
        ),
        ("msisdn\tname\r\n+85512345678\tKate\r\n".encode("utf-16")[:-1], None),
    ],
    ids=[
        "undefined in Windows-1252",
        "not UTF-8 then undefined",
        "NUL",
        "NUL past the sample",
        "NUL in UTF-16",
        "odd UTF-16",
    ],
)
def test_api_refuses_the_file_whole_naming_the_line_when_encoding_is_broken(
    client_for, django_capture_on_commit_callbacks, content, message
):
    response = upload(client_for, content, django_capture_on_commit_callbacks)
    assert response.status_code == 422
    errors = response.json()["errors"]["file"]
    assert errors == [message] if message else errors[0].startswith("is not UTF-16 text")
    assert not ContactImport.objects.exists() and not Contact.objects.exists()


# records: the line where a bad record starts ----------------------------------------------------------------------
MULTILINE = (
    b"msisdn,name,note\r\n"
    b'+85512345678,Kate,"first line\r\nsecond line\r\nthird line"\r\n'
    b'bad,"Bob\r\nBuilder",x\r\n'
    b'+85512345679,Ann,"a ""quoted"" word"\r\n'
    b'12,"two\r\nlines"\r\n'
)


def test_api_names_the_line_where_the_bad_record_starts_when_quoted_cells_span_lines(
    client_for, account, django_capture_on_commit_callbacks
):
    response = upload(client_for, MULTILINE, django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.json()
    assert response.json()["total_rows"] == 4
    done = ContactImport.objects.get(pk=response.json()["id"])
    assert [row["line"] for row in done.error_rows] == [5, 8]
    assert Contact.objects.get(msisdn="+85512345678").metadata["note"] == "first line\r\nsecond line\r\nthird line"
    assert Contact.objects.get(msisdn="+85512345679").metadata["note"] == 'a "quoted" word'


def test_command_names_the_line_where_the_bad_record_starts_when_quoted_cells_span_lines(account, tmp_path):
    stdout = command(account, tmp_path, MULTILINE)
    assert "line 5: msisdn is invalid: 'b' is not part of a phone number" in stdout
    assert "line 8: msisdn is invalid" in stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'msisdn,name\n+85512345678,Kate\n+85512345679,"Bob\nBuilder\n+85512345670,Ann\n',
            "is not a CSV file: line 3: a quoted cell starting here is never closed",
        ),
        (
            b'msisdn,name\n+85512345678,Kate\n+85512345679,"Bob\nthe" Builder\n+85512345670,Ann\n',
            "is not a CSV file: line 3: text follows the closing quote of a cell (quote the whole cell and double "
            "the quotes inside it)",
        ),
    ],
    ids=["quote never closed", "text after a closing quote"],
)
def test_api_refuses_the_file_whole_naming_the_line_where_the_record_starts_when_quotes_are_malformed(
    client_for, django_capture_on_commit_callbacks, tmp_path, account, content, message
):
    response = upload(client_for, content, django_capture_on_commit_callbacks)
    assert response.status_code == 422
    assert response.json() == {"errors": {"file": [message]}}
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        command(account, tmp_path, content)
    assert not ContactImport.objects.exists() and not Contact.objects.exists()


def test_import_service_names_the_line_where_the_record_starts_when_the_file_was_not_checked(account):
    stream = io.StringIO('msisdn,name\n+85512345678,Kate\n+85512345679,"Bob\nBuilder\n')
    from contacts import imports

    with pytest.raises(DomainError) as raised:
        imports.import_contacts(account=account, stream=stream)
    assert raised.value.errors == {"file": ["is not a CSV file: line 3: a quoted cell starting here is never closed"]}
