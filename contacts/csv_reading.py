"""Reading contact CSV files: the header, typed columns, and rows parsed in chunks (no database access).

File format (documented in docs/contact-import.md):
- a header row with a `msisdn` column; every other column becomes a metadata key;
- a column may declare its type as `name:type`: `string` (default), `number`, `boolean`, `date` (YYYY-MM-DD),
  `list` (items separated by `|`); an empty cell leaves that key untouched;
- rows are keyed by normalised msisdn; a number repeated in a chunk is merged in file order, so the last value of
  each key wins (contacts/imports.py merges the chunks into the stored metadata, like contact_data).

A malformed header or file raises DomainError `{"file": [message]}` (a 422 for uploads).
"""

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

from .phone_numbers import fast_normalize_msisdn

CHUNK_SIZE = 10_000
LIST_SEPARATOR = "|"
TYPES = ("string", "number", "boolean", "date", "list")
TRUE_VALUES = {"true", "t", "yes", "y", "1"}
FALSE_VALUES = {"false", "f", "no", "n", "0"}
_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def file_error(message: str) -> DomainError:
    """The error of a file that cannot be imported as a whole: DomainError {"file": [message]}."""
    return DomainError({"file": [message]})


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


def parsed_chunks(stream, skip_rows: int) -> Iterator[tuple[int, dict[str, dict], list]]:
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
