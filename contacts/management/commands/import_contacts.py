import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from accounts.models import Account
from contacts import csv_reading, imports
from scfm.db import database_name, no_tables_message
from scfm.errors import DomainError

BAR_WIDTH = 30
ERRORS_SHOWN = 20


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV file: a msisdn column, every other column becomes metadata "
        "(typed with `name:number`, `:boolean`, `:date`, `:list`). Upserts by msisdn; bad rows are listed by line."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV file")
        parser.add_argument("--account-id", type=int, required=True, help="the account that owns the contacts")

    def handle(self, *args, path, account_id, **options):
        try:
            account = Account.objects.filter(pk=account_id).first()
        except DatabaseError as error:
            raise CommandError(no_tables_message(error)) from None
        if account is None:
            raise CommandError(f"No account with id {account_id} in {database_name()}")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        show_progress = options["verbosity"] > 0
        started = time.monotonic()
        with file.open("rb") as binary:
            try:
                csv_format = csv_reading.check_csv(binary)
            except DomainError as exc:
                raise CommandError(f"{path}: {'; '.join(exc.errors['file'])}") from None
            total = csv_format.rows

            def progress(result: imports.ImportResult) -> None:
                if show_progress:
                    self.stderr.write(self.progress_line(result.processed_rows, total, started), ending="")
                    self.stderr.flush()

            try:
                result = imports.import_contacts(
                    account=account,
                    stream=csv_reading.open_text(binary, csv_format.encoding),
                    dialect=csv_format.dialect,
                    on_chunk=progress,
                )
            except DomainError as exc:
                raise CommandError(f"{path}: {'; '.join(exc.errors['file'])}") from None
            except UnicodeDecodeError as exc:
                raise CommandError(f"{path}: is not UTF-8 text ({exc})") from None
        if show_progress:
            self.stderr.write(self.progress_line(result.processed_rows, result.processed_rows, started))
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Imported {result.processed_rows:,} rows in {elapsed:.1f}s: {result.created_count:,} created, "
            f"{result.updated_count:,} updated, {result.error_count:,} rejected"
        )
        for error in result.errors[:ERRORS_SHOWN]:
            details = "; ".join(f"{key} {', '.join(messages)}" for key, messages in error["errors"].items())
            self.stdout.write(f"  line {error['line']}: {details}")
        if result.error_count > ERRORS_SHOWN:
            self.stdout.write(f"  ... and {result.error_count - ERRORS_SHOWN:,} more rejected rows")

    @staticmethod
    def progress_line(done: int, total: int, started: float) -> str:
        total = max(total, done, 1)
        filled = BAR_WIDTH * done // total
        rate = done / max(time.monotonic() - started, 1e-9)
        return (
            f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {100 * done // total:3d}% "
            f"{done:,}/{total:,} rows, {rate:,.0f} rows/s"
        )
