"""Reading contact CSV files: the whole-file check, the header, typed columns, and rows parsed in chunks (no
database access).

File format (documented in docs/contact-import.md; the encoding is found by contacts/csv_encoding.py):
- as spreadsheet programs save it: `,`, `;` or tab between cells (detect_dialect: the one that makes `msisdn` a
  header column; Excel's `sep=;` line), UTF-8 (BOM or not), UTF-16 with a BOM, or Windows-1252 for a file with no
  UTF-8 in it (detect_encoding, over the whole file); CRLF, LF or CR line ends; quoted cells may span lines;
- check_csv checks all of it before the first row is written, and names the line where a bad record starts;
- a header row with a `msisdn` column; every other column becomes a metadata key;
- a column may declare its type as `name:type`: `string` (default), `number`, `boolean`, `date` (YYYY-MM-DD),
  `list` (items separated by `|`); an empty cell leaves that key untouched;
- rows are keyed by normalised msisdn; a number repeated in a chunk is merged in file order, so the last value of
  each key wins (contacts/imports.py merges the chunks into the stored metadata, like contact_data).

A malformed header or file raises DomainError `{"file": [message]}` (a 422 for uploads).
"""

import codecs
import csv
import io
import math
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from scfm.errors import DomainError

from .csv_encoding import detect_encoding, file_error
from .phone_numbers import fast_normalize_msisdn, msisdn_or_error

CHUNK_SIZE = 10_000
LIST_SEPARATOR = "|"
TYPES = ("string", "number", "boolean", "date", "list")
TRUE_VALUES = {"true", "t", "yes", "y", "1"}
FALSE_VALUES = {"false", "f", "no", "n", "0"}
_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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
DELIMITERS = (",", ";", "\t")
SAMPLE_SIZE = 64 * 1024
_SEP_LINE = re.compile(r"sep=(.)(?:\r\n|\r|\n)")  # Excel's "sep=;" first line


@dataclass(frozen=True)
class Dialect:
    """How a file's cells are separated, and whether an Excel `sep=` line precedes the header."""

    delimiter: str = ","
    sep_line: bool = False


COMMA = Dialect()


@dataclass(frozen=True)
class CsvFormat:
    """What check_csv found: the encoding (a Python codec), the dialect, the header and the data rows (non-blank
    records; None when rows were not counted)."""

    encoding: str
    dialect: Dialect
    header: Header
    rows: int | None


def _has_msisdn(row: list[str]) -> bool:
    return any(cell.partition(":")[0].strip().lower() == "msisdn" for cell in row)


def detect_dialect(sample: str) -> Dialect:
    """The delimiter that makes `msisdn` a column of the header (`,`, `;` or tab; Excel's `sep=` line wins).

    Several candidates: the one giving the most columns. None: DomainError naming what the first line holds.
    """
    if sep := _SEP_LINE.match(sample):
        return Dialect(delimiter=sep.group(1), sep_line=True)
    found = []
    for delimiter in DELIMITERS:
        try:
            row = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), [])
        except csv.Error:
            continue
        if _has_msisdn(row):
            found.append((len(row), -DELIMITERS.index(delimiter), delimiter))
    if not found:
        first_line = sample.splitlines()[0] if sample.strip() else ""
        shown = first_line if len(first_line) <= 100 else first_line[:100] + "..."
        raise file_error(
            f"has no msisdn column (its first line reads {shown!r}; columns may be separated by ',', ';' or tab)"
        )
    return Dialect(delimiter=max(found)[2])


def _csv_error(line: int, exc: csv.Error) -> DomainError:
    """A malformed record, named by the line where it starts."""
    message = str(exc)
    if message == "unexpected end of data":
        message = "a quoted cell starting here is never closed"
    elif "expected after" in message:
        message = "text follows the closing quote of a cell (quote the whole cell and double the quotes inside it)"
    elif "field larger than field limit" in message:
        message = f"a cell is longer than {csv.field_size_limit():,} characters (a quote that is never closed?)"
    return file_error(f"is not a CSV file: line {line}: {message}")


def _reader(text, dialect: Dialect):
    if dialect.sep_line:
        text.readline()
    return csv.reader(text, delimiter=dialect.delimiter, strict=True)


def _records(text, dialect: Dialect) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) of every record, the header first; a malformed record raises
    DomainError {"file": [...]} naming the line where it starts, also when a quoted cell spans several lines."""
    reader = _reader(text, dialect)
    end = int(dialect.sep_line)
    while True:
        start = end + 1
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise _csv_error(start, exc) from None
        if row is None:
            return
        end = reader.line_num + int(dialect.sep_line)
        yield start, row


def _blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def check_csv(binary, *, count_rows: bool = True) -> CsvFormat:
    """Check a whole file before any row is written: encoding (detect_encoding), dialect (detect_dialect), header
    (parse_header) and, with `count_rows`, every record's CSV syntax and the number of data rows.

    Raises DomainError {"file": [message]} (a 422 for uploads) naming the line at fault; rewinds `binary`.
    """
    sample = binary.read(SAMPLE_SIZE)
    binary.seek(0)
    if not sample.strip():
        raise file_error("is empty")
    encoding = detect_encoding(binary)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample)
    dialect = detect_dialect(text.removeprefix("\ufeff"))
    stream = open_text(binary, encoding)
    rows = None
    try:
        records = _records(stream, dialect)
        header = parse_header(next(records, (1, []))[1])
        if count_rows:
            rows = sum(1 for _line, row in records if not _blank(row))
    finally:
        stream.detach()
        binary.seek(0)
    return CsvFormat(encoding=encoding, dialect=dialect, header=header, rows=rows)


def open_text(binary, encoding: str = "utf-8-sig") -> io.TextIOWrapper:
    """A binary file as CSV text in `encoding` (check_csv's; UTF-8, with or without a byte-order mark, by default)."""
    return io.TextIOWrapper(binary, encoding=encoding, newline="")


def _chunks(text, dialect: Dialect = COMMA, skip_rows: int = 0):
    """Yield (header, [(line, row), ...]) in chunks of CHUNK_SIZE non-blank rows, after skipping `skip_rows`;
    `line` is the line where the record starts."""
    records = _records(text, dialect)
    header = parse_header(next(records, (1, []))[1])
    chunk = []
    seen = 0
    for line, row in records:
        if _blank(row):
            continue
        seen += 1
        if seen <= skip_rows:
            continue
        chunk.append((line, row))
        if len(chunk) >= CHUNK_SIZE:
            yield header, chunk
            chunk = []
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
            errors["msisdn"] = [msisdn_or_error(raw)[1]]
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


def parsed_chunks(stream, skip_rows: int, dialect: Dialect = COMMA) -> Iterator[tuple[int, dict[str, dict], list]]:
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
            for header, rows in _chunks(stream, dialect, skip_rows=skip_rows):
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
