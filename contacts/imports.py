"""Contact import from CSV: parse in chunks, one bulk upsert statement per chunk, bad rows reported by line.

File format (documented in docs/contact-import.md):
- a header row with a `msisdn` column; every other column becomes a metadata key;
- a column may declare its type as `name:type`: `string` (default), `number`, `boolean`, `date` (YYYY-MM-DD),
  `list` (items separated by `|`); an empty cell leaves that key untouched;
- rows are upserted by normalised msisdn and their metadata merged into the stored metadata (like contact_data);
  a number repeated in the file is merged in file order, so the last value of each key wins.
"""

import csv
import io
import math
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import phonenumbers
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from phonenumbers import phonenumberutil

from accounts.models import Account
from scfm.db import dumps, is_postgresql
from scfm.errors import DomainError

from .models import Contact, ContactImport
from .phone_numbers import normalize_msisdn

CHUNK_SIZE = 10_000
SQLITE_BATCH = 2_000
LIST_SEPARATOR = "|"
TYPES = ("string", "number", "boolean", "date", "list")
TRUE_VALUES = {"true", "t", "yes", "y", "1"}
FALSE_VALUES = {"false", "f", "no", "n", "0"}
_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PLAIN_NUMBER = re.compile(r"\+?([1-9]\d{3,16})")


def file_error(message: str) -> DomainError:
    return DomainError({"file": [message]})


# msisdn ------------------------------------------------------------------------------------------------------------
@cache
def _country(country_code: int):
    """(national-prefix regex or None, metadata) for a calling code."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    prefix = metadata.national_prefix_for_parsing if metadata else None
    return (re.compile(prefix) if prefix else None), metadata


@cache
def _possible_length(country_code: int, length: int) -> bool:
    """is_possible_number only looks at the calling code and the national number's length."""
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int("1" * length))
    return phonenumbers.is_possible_number(number)


def fast_normalize_msisdn(value: str) -> str | None:
    """normalize_msisdn, with a shortcut for plain `+<digits>` / `<digits>` that phonenumbers would keep as they are.

    When the national number cannot start with the country's national prefix, phonenumbers keeps the digits
    unchanged and only checks the length, which is cached per (calling code, length); anything else takes the
    full phonenumbers path. tests/contacts/test_imports.py checks both agree on random numbers of every country.
    """
    match = _PLAIN_NUMBER.fullmatch(value)
    if match is None:
        return normalize_msisdn(value)
    digits = match.group(1)
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        if country_code in phonenumberutil.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return normalize_msisdn(value)
    national = digits[size:]
    prefix, metadata = _country(country_code)
    if metadata is None or len(national) < 2 or (prefix is not None and prefix.match(national)):
        return normalize_msisdn(value)
    return "+" + digits if _possible_length(country_code, len(national)) else None


# columns -----------------------------------------------------------------------------------------------------------
def _string(text: str):
    return text


def _number(text: str):
    if _INTEGER.fullmatch(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        raise ValueError("is not a number") from None
    if not math.isfinite(number):
        raise ValueError("is not a number")
    return number


def _boolean(text: str):
    lowered = text.lower()
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    raise ValueError("is not a boolean (true/false, yes/no, 1/0)")


def _date(text: str):
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError("is not a date (YYYY-MM-DD)") from None


def _list(text: str):
    return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]


CONVERTERS: dict[str, Callable[[str], object]] = {
    "string": _string,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
    "list": _list,
}


@dataclass(frozen=True)
class Header:
    """The parsed header row: where the msisdn is and, for every other column, its metadata key and converter."""

    msisdn_index: int
    columns: tuple[tuple[int, str, Callable[[str], object]], ...]
    width: int


def parse_header(row: list[str]) -> Header:
    """Validate the header row; a file without a usable header is rejected as a whole (a 422 for uploads)."""
    msisdn_index = None
    columns = []
    seen = set()
    for index, cell in enumerate(row):
        name, _, kind = cell.strip().partition(":")
        name, kind = name.strip(), (kind.strip().lower() or "string")
        if not name:
            raise file_error(f"column {index + 1} of the header has no name")
        if name.lower() == "msisdn":
            name = "msisdn"
        if name in seen:
            raise file_error(f"has the column {name!r} twice")
        seen.add(name)
        if name == "msisdn":
            msisdn_index = index
            continue
        if kind not in CONVERTERS:
            raise file_error(f"column {cell.strip()!r} has an unknown type {kind!r} (one of {', '.join(TYPES)})")
        columns.append((index, name, CONVERTERS[kind]))
    if msisdn_index is None:
        raise file_error("has no msisdn column")
    return Header(msisdn_index=msisdn_index, columns=tuple(columns), width=len(row))


# reading -----------------------------------------------------------------------------------------------------------
def open_text(binary) -> io.TextIOWrapper:
    """A binary file as CSV text: UTF-8, with or without a byte-order mark."""
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


def check_csv(binary) -> Header:
    """Read the header of an uploaded file (then rewind it): a 422 when it is not a CSV file SCFM can import."""
    sample = binary.read(64 * 1024)
    binary.seek(0)
    if not sample.strip():
        raise file_error("is empty")
    if b"\x00" in sample:
        raise file_error("is not a CSV file")
    try:
        text = sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut in half by the sample's end
            raise file_error("is not a CSV file (it must be UTF-8 text)") from None
        text = sample[: exc.start].decode("utf-8-sig")
    try:
        header = next(csv.reader(io.StringIO(text)), None)
    except csv.Error:
        raise file_error("is not a CSV file") from None
    return parse_header(header or [])


def count_lines(binary) -> int:
    """Data rows in a file, estimated from its line breaks (fast; quoted line breaks make it an overestimate)."""
    lines, last = 0, b"\n"
    for block in iter(lambda: binary.read(1 << 20), b""):
        lines += block.count(b"\n")
        last = block[-1:]
    binary.seek(0)
    return max(lines + (last != b"\n") - 1, 0)


@dataclass
class ImportResult:
    """Counters of an import so far; `errors` keeps the first `max_errors` rejected rows."""

    processed_rows: int = 0
    created_count: int = 0
    updated_count: int = 0
    error_count: int = 0
    errors: list[dict] = field(default_factory=list)
    max_errors: int = ContactImport.MAX_ERROR_ROWS

    def reject(self, line: int, errors: dict[str, list[str]]) -> None:
        self.error_count += 1
        if len(self.errors) < self.max_errors:
            self.errors.append({"line": line, "errors": errors})


def _chunks(text, header_check: Callable[[list[str]], Header] = parse_header, skip_rows: int = 0):
    """Yield (header, [(line, row), ...]) in chunks of CHUNK_SIZE non-blank rows, after skipping `skip_rows`."""
    reader = csv.reader(text)
    try:
        first = next(reader, None)
    except csv.Error as exc:
        raise file_error(f"is not a CSV file ({exc})") from None
    header = header_check(first or [])
    chunk = []
    seen = 0
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            seen += 1
            if seen <= skip_rows:
                continue
            chunk.append((reader.line_num, row))
            if len(chunk) >= CHUNK_SIZE:
                yield header, chunk
                chunk = []
    except csv.Error as exc:
        raise file_error(f"is not a CSV file (line {reader.line_num}: {exc})") from None
    if chunk:
        yield header, chunk


def _parse_chunk(header: Header, rows) -> tuple[dict[str, dict], list[tuple[int, dict]]]:
    """Convert rows to {msisdn: metadata} (a number seen twice merges in file order) and [(line, errors)]."""
    parsed: dict[str, dict] = {}
    rejected = []
    msisdn_index, columns, width = header.msisdn_index, header.columns, header.width
    for line, row in rows:
        errors = {}
        if len(row) > width:
            errors["base"] = [f"has {len(row)} columns, the header has {width}"]
            row = row[:width]
        raw = row[msisdn_index].strip() if msisdn_index < len(row) else ""
        msisdn = fast_normalize_msisdn(raw) if raw else None
        if msisdn is None:
            errors["msisdn"] = ["can't be blank"] if not raw else ["is invalid"]
        metadata = {}
        for index, name, convert in columns:
            if index >= len(row):
                break
            text = row[index].strip()
            if not text:
                continue
            try:
                metadata[name] = convert(text)
            except ValueError as exc:
                errors[name] = [str(exc)]
        if errors:
            rejected.append((line, errors))
            continue
        existing = parsed.get(msisdn)
        if existing is None:
            parsed[msisdn] = metadata
        else:
            existing.update(metadata)
    return parsed, rejected


_DONE = object()


def _parsed_chunks(stream, skip_rows: int) -> Iterator[tuple[int, dict[str, dict], list]]:
    """Parse chunks in a background thread, one chunk ahead of the caller, so parsing overlaps the database work.

    Yields (rows in chunk, {msisdn: metadata}, [(line, errors)]); at most three chunks exist at a time. The thread
    never touches the database; its exceptions (a malformed file) are raised here, in the caller's thread.
    """
    chunks: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def parse() -> None:
        try:
            for header, rows in _chunks(stream, skip_rows=skip_rows):
                if not put((len(rows), *_parse_chunk(header, rows))):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the caller's thread and raised there
            put(exc)

    thread = threading.Thread(target=parse, name="contact-import-parser", daemon=True)
    thread.start()
    try:
        while (item := chunks.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


# writing -----------------------------------------------------------------------------------------------------------
def _upsert_postgresql(cursor, account_id: int, rows: dict[str, dict], now) -> int:
    table = Contact._meta.db_table
    cursor.execute(
        f"""
        WITH upserted AS (
            INSERT INTO {table} AS c (account_id, msisdn, metadata, created_at, updated_at)
            SELECT %s, t.key, t.value, %s, %s FROM jsonb_each(%s::jsonb) AS t
            ON CONFLICT (account_id, msisdn)
            DO UPDATE SET metadata = c.metadata || EXCLUDED.metadata, updated_at = EXCLUDED.updated_at
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted) FROM upserted
        """,
        [account_id, now, now, dumps(rows)],
    )
    return cursor.fetchone()[0]


def _upsert_sqlite(cursor, account_id: int, rows: dict[str, dict], now) -> int:
    table = Contact._meta.db_table
    stamp = connection.ops.adapt_datetimefield_value(now)
    items = list(rows.items())
    created = 0
    for start in range(0, len(items), SQLITE_BATCH):
        cursor.execute(
            f"""
            INSERT INTO {table} (account_id, msisdn, metadata, created_at, updated_at)
            SELECT %s, key, json(value), %s, %s FROM json_each(%s) WHERE true
            ON CONFLICT (account_id, msisdn)
            DO UPDATE SET metadata = json_patch({table}.metadata, excluded.metadata), updated_at = excluded.updated_at
            RETURNING created_at = %s
            """,
            [account_id, stamp, stamp, dumps(dict(items[start : start + SQLITE_BATCH])), stamp],
        )
        created += sum(1 for (inserted,) in cursor.fetchall() if inserted)
    return created


def upsert_chunk(account_id: int, rows: dict[str, dict]) -> tuple[int, int]:
    """One set-based upsert of {msisdn: metadata} (metadata merged into existing contacts): (created, updated)."""
    if not rows:
        return 0, 0
    now = timezone.now()
    with connection.cursor() as cursor:
        upsert = _upsert_postgresql if is_postgresql(connection) else _upsert_sqlite
        created = upsert(cursor, account_id, rows, now)
    return created, len(rows) - created


def import_contacts(
    *,
    account: Account,
    stream,
    skip_rows: int = 0,
    result: ImportResult | None = None,
    on_chunk: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Import a CSV text stream into the account's contacts, one transaction per chunk of CHUNK_SIZE rows.

    Chunks are parsed in a helper thread while the previous chunk is written (see _parsed_chunks).

    `on_chunk(result)` runs inside each chunk's transaction (to save progress with it, or to report it).
    `skip_rows` data rows are skipped, to resume an import whose first chunks are already committed.
    A malformed header or file raises DomainError (committed chunks stay).
    """
    result = result or ImportResult()
    postgresql = is_postgresql(connection)
    for row_count, parsed, rejected in _parsed_chunks(stream, skip_rows):
        with transaction.atomic():
            if postgresql:
                # A chunk commits with its progress counters, so a commit lost in a server crash loses both and
                # the resumed import redoes the chunk: no need to wait for the WAL flush on every chunk.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            created, updated = upsert_chunk(account.pk, parsed)
            result.processed_rows += row_count
            result.created_count += created
            result.updated_count += updated
            for line, errors in rejected:
                result.reject(line, errors)
            if on_chunk is not None:
                on_chunk(result)
    return result


# ContactImport: the API's background imports ------------------------------------------------------------------
def contact_import_list(*, account: Account) -> QuerySet[ContactImport]:
    """The account's contact imports."""
    return ContactImport.objects.filter(account=account)


@transaction.atomic
def contact_import_create(*, account: Account, file) -> ContactImport:
    """Store an uploaded CSV file and queue its import; a file that is not an importable CSV is a 422."""
    from .tasks import contact_import_run_task

    check_csv(file)
    total = count_lines(file)
    contact_import = ContactImport(account=account, filename=(file.name or "")[:255], total_rows=total)
    contact_import.file.save(file.name or "contacts.csv", file, save=False)
    contact_import.save()
    transaction.on_commit(lambda: contact_import_run_task.delay(contact_import.pk))
    return contact_import


class ImportSuperseded(Exception):
    """Another run of the same import has committed a chunk this run did not expect: this run stops."""


def contact_import_run(*, contact_import_id: int) -> ContactImport | None:
    """Run (or resume) a queued import; finished, failed and unknown imports are left alone (idempotent).

    Each chunk commits together with the import's counters, so a redelivered task skips the rows already done.
    A file that turns out to be malformed part-way marks the import failed, keeping what was committed.
    """
    with transaction.atomic():
        contact_import = (
            ContactImport.objects.select_for_update()
            .filter(pk=contact_import_id, status__in=[ContactImport.Status.QUEUED, ContactImport.Status.RUNNING])
            .first()
        )
        if contact_import is None:
            return None
        contact_import.status = ContactImport.Status.RUNNING
        contact_import.started_at = contact_import.started_at or timezone.now()
        contact_import.save(update_fields=["status", "started_at", "updated_at"])

    result = ImportResult(
        processed_rows=contact_import.processed_rows,
        created_count=contact_import.created_count,
        updated_count=contact_import.updated_count,
        error_count=contact_import.error_count,
        errors=list(contact_import.error_rows),
    )
    expected = [contact_import.processed_rows]

    def save_progress(progress: ImportResult) -> None:
        locked = ContactImport.objects.select_for_update().only("processed_rows").get(pk=contact_import.pk)
        if locked.processed_rows != expected[0]:
            raise ImportSuperseded
        ContactImport.objects.filter(pk=contact_import.pk).update(
            processed_rows=progress.processed_rows,
            created_count=progress.created_count,
            updated_count=progress.updated_count,
            error_count=progress.error_count,
            error_rows=progress.errors,
            updated_at=timezone.now(),
        )
        expected[0] = progress.processed_rows

    outcome = {"status": ContactImport.Status.FINISHED, "error_message": ""}
    try:
        with contact_import.file.open("rb") as binary:
            import_contacts(
                account=contact_import.account,
                stream=open_text(binary),
                skip_rows=contact_import.processed_rows,
                result=result,
                on_chunk=save_progress,
            )
    except ImportSuperseded:
        return None
    except DomainError as exc:
        messages = exc.errors.get("file", [])
        outcome = {"status": ContactImport.Status.FAILED, "error_message": "; ".join(f"file {m}" for m in messages)}
    except (UnicodeDecodeError, OSError) as exc:
        outcome = {"status": ContactImport.Status.FAILED, "error_message": f"could not read the file: {exc}"}
    if outcome["status"] == ContactImport.Status.FINISHED:
        outcome["total_rows"] = expected[0]
    ContactImport.objects.filter(pk=contact_import.pk).update(
        **outcome, finished_at=timezone.now(), updated_at=timezone.now()
    )
    contact_import.refresh_from_db()
    return contact_import
