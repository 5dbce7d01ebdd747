"""The encoding of a contact CSV file, found over the whole file before any row is read (contacts/csv_reading.py's
check_csv calls detect_encoding).

Our own rule rather than a statistical detector (charset-normalizer guesses from samples and may pick a different
code page for the same bytes): an import must be all-or-explained, so the decision is exact — UTF-16 by its BOM,
UTF-8 if every byte is UTF-8, Windows-1252 only if no byte is UTF-8 text and none is undefined there — and a refusal
names the line.
"""

import codecs
import io
import re

from scfm.errors import DomainError

NUL = "has a NUL character on line {line}: it is not a CSV file"
_BLOCK_SIZE = 1 << 20
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, as the surrogateescape handler keeps them
_UTF8_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


def file_error(message: str) -> DomainError:
    """The error of a file that cannot be imported as a whole: DomainError {"file": [message]}."""
    return DomainError({"file": [message]})


class _Lines:
    """Counts line breaks (CRLF, LF or a lone CR, as csv.reader does) in text read block by block."""

    def __init__(self):
        self.count = 0
        self._after_cr = False

    def before(self, text: str, end: int) -> int:
        """The 1-based line number of position `end` of the next block `text`."""
        return self.count + _line_breaks(text[:end], self._after_cr) + 1

    def add(self, text: str) -> None:
        self.count += _line_breaks(text, self._after_cr)
        self._after_cr = text.endswith("\r") or (self._after_cr and not text)


def _line_breaks(text: str, after_cr: bool) -> int:
    breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    return breaks - (after_cr and text.startswith("\n"))


def _utf8_scan(binary) -> tuple[int | None, bool, int | None]:
    """(line of the first byte that is not UTF-8, whether other non-ASCII text is valid UTF-8, line of a NUL)."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    lines = _Lines()
    bad_line = nul_line = None
    non_ascii = False
    for block in iter(lambda: binary.read(_BLOCK_SIZE), b""):
        text = decoder.decode(block)
        if bad_line is None and (bad := _NOT_UTF8.search(text)):
            bad_line = lines.before(text, bad.start())
        if not non_ascii and _UTF8_NON_ASCII.search(text):
            non_ascii = True
        if nul_line is None and (nul := text.find("\x00")) >= 0:
            nul_line = lines.before(text, nul)
        lines.add(text)
    tail = decoder.decode(b"", final=True)
    if bad_line is None and tail:
        bad_line = lines.before(tail, 0)
    binary.seek(0)
    return bad_line, non_ascii, nul_line


def _cp1252_undefined_line(binary) -> int | None:
    """Line of the first byte Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D), if any."""
    lines = _Lines()
    for block in iter(lambda: binary.read(_BLOCK_SIZE), b""):
        text = block.decode("latin-1")  # one character per byte, to count lines
        if undefined := _CP1252_UNDEFINED.search(block):
            binary.seek(0)
            return lines.before(text, undefined.start())
        lines.add(text)
    binary.seek(0)
    return None


def _utf16_scan(binary) -> int | None:
    """Line of a NUL in a UTF-16 file; a file that is not UTF-16 is refused naming the line it stops at."""
    wrapper = io.TextIOWrapper(binary, encoding="utf-16", newline="")
    lines = _Lines()
    nul_line = None
    try:
        for text in iter(lambda: wrapper.read(_BLOCK_SIZE), ""):
            if nul_line is None and (nul := text.find("\x00")) >= 0:
                nul_line = lines.before(text, nul)
            lines.add(text)
    except UnicodeDecodeError:
        raise file_error(f"is not UTF-16 text (it has a byte-order mark) after line {lines.count + 1}") from None
    finally:
        wrapper.detach()
        binary.seek(0)
    return nul_line


def detect_encoding(binary) -> str:
    """The encoding of a whole file, checked before any row is read; a file that has none is refused naming a line.

    - a UTF-16 byte-order mark: UTF-16 (Excel's "Unicode Text");
    - UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8", LibreOffice, Google Sheets, Numbers);
    - a file with no UTF-8 text at all that Windows-1252 decodes whole: Windows-1252 (Excel's "CSV" on Western
      Windows). A file mixing UTF-8 with other bytes, or with bytes Windows-1252 leaves undefined, is refused.
    A NUL character anywhere refuses the file (PostgreSQL cannot store it; no spreadsheet writes one).
    Returns a Python codec name; raises DomainError {"file": [message]}; rewinds `binary`.
    """
    head = binary.read(2)
    binary.seek(0)
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        encoding, nul_line = "utf-16", _utf16_scan(binary)
    else:
        bad_line, utf8_text, nul_line = _utf8_scan(binary)
        encoding = "utf-8-sig"
        if nul_line is not None:
            raise file_error(NUL.format(line=nul_line))
        if bad_line is not None and utf8_text:
            raise file_error(
                f"is not UTF-8 text: line {bad_line} has bytes that are not UTF-8 while other lines are UTF-8 "
                "(save the file again as UTF-8)"
            )
        if bad_line is not None:
            if (undefined_line := _cp1252_undefined_line(binary)) is not None:
                raise file_error(
                    f"is neither UTF-8 nor Windows-1252 text: line {bad_line} is not UTF-8, line {undefined_line} "
                    "is not Windows-1252 (save the file as UTF-8)"
                )
            encoding = "cp1252"
    if nul_line is not None:
        raise file_error(NUL.format(line=nul_line))
    return encoding
