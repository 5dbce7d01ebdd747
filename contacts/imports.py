"""The contact import service: a CSV stream into an account's contacts, one transaction per chunk, bad rows
reported by line; and the API's background imports (ContactImport) that run it and record progress.

Where the pieces live: the file format, header and row parsing in contacts/csv_reading.py; msisdn normalisation in
contacts/phone_numbers.py; the upsert SQL in contacts/bulk_upsert.py; the list of imports in contacts/selectors.py.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account
from scfm.db import is_postgresql
from scfm.errors import DomainError

from .bulk_upsert import upsert_chunk
from .csv_reading import COMMA, Dialect, check_csv, open_text, parsed_chunks
from .models import ContactImport


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


def import_contacts(
    *,
    account: Account,
    stream,
    dialect: Dialect = COMMA,
    skip_rows: int = 0,
    result: ImportResult | None = None,
    on_chunk: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Import a CSV text stream into the account's contacts, one transaction per chunk of csv_reading.CHUNK_SIZE rows.

    Chunks are parsed in a helper thread while the previous chunk is written (see csv_reading.parsed_chunks).
    `stream` is text (csv_reading.open_text with the encoding check_csv found); `dialect` is check_csv's too.

    `on_chunk(result)` runs inside each chunk's transaction (to save progress with it, or to report it).
    `skip_rows` data rows are skipped, to resume an import whose first chunks are already committed.
    Returns the updated `result` (a new ImportResult when none is given). A malformed header or file raises
    DomainError `{"file": [...]}` naming the line (committed chunks stay: check the file with csv_reading.check_csv
    first, as the API and the command do, so that a malformed file is refused before any row is written).
    """
    result = result or ImportResult()
    postgresql = is_postgresql(connection)
    for row_count, parsed, rejected in parsed_chunks(stream, skip_rows, dialect):
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
@transaction.atomic
def contact_import_create(*, account: Account, file) -> ContactImport:
    """Store an uploaded CSV file and queue its import; a file that is not an importable CSV is a 422.

    The whole file is checked first (csv_reading.check_csv: encoding, dialect, header, every record's syntax), so
    an import never stops half-way on a malformed file; `total_rows` is the exact number of data rows.
    """
    from .tasks import contact_import_run_task

    total = check_csv(file).rows
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
    The file's encoding and dialect are detected again (check_csv, without counting rows); a file that is malformed
    after all (it was checked whole at upload) marks the import failed, keeping what was committed.
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
            csv_format = check_csv(binary, count_rows=False)
            import_contacts(
                account=contact_import.account,
                stream=open_text(binary, csv_format.encoding),
                dialect=csv_format.dialect,
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
