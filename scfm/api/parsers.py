"""Request body parsers: JSON, and form/multipart bodies with bracket keys, all producing nested dicts.

Every JSON document and every multipart field goes through scfm.limits.check_data / check_pairs, so text the
database can't store, non-finite numbers, out-of-range integers and too-deep nesting are a 422 before any view
reads them (form bodies and query strings are checked earlier, by scfm.middleware.EdgeMiddleware).
"""

import json

from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser

from scfm.limits import MAX_DEPTH, InputRejected, check_data, check_pairs, storable_text
from scfm.query.params import nest_querydict


def _loads(raw: bytes):
    """The JSON document, checked (scfm.limits.check_data); ValueError/UnicodeDecodeError if it is not JSON."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise InputRejected({"base": [f"the JSON body is nested more than {MAX_DEPTH} levels deep"]}) from None
    check_data(document)
    return document


def _parse_json(raw: bytes):
    try:
        return _loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"Malformed JSON body: {exc}") from exc


class JSONBodyParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream else b""
        if not raw.strip():
            return {}
        return _parse_json(raw)


class BracketFormParser(FormParser):
    """Form bodies with bracket keys. A JSON document sent with curl's default form content type is read as JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream else b""
        head = raw.lstrip()[:1]
        if head == b"{":
            return _parse_json(raw)
        if head == b"[":  # a JSON array, or the leading-bracket form `[metadata][name]=Alice` (getting-started.md)
            try:
                return _loads(raw)
            except (ValueError, UnicodeDecodeError):
                pass
        encoding = (parser_context or {}).get("encoding", "utf-8")
        return nest_querydict(QueryDict(raw, encoding=encoding))


class NestedData(dict):
    """Parsed multipart fields. DRF merges the uploaded files into them with copy() and update(); a plain dict would
    take MultiValueDict's internal lists, so each file would arrive as a one-item list."""

    def copy(self):
        return NestedData(self)

    def update(self, other=(), **kwargs):
        if isinstance(other, MultiValueDict):
            other = {key: other[key] for key in other}
        super().update(other, **kwargs)


class BracketMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        check_pairs((key, value) for key, values in parsed.data.lists() for value in values)
        for field, upload in parsed.files.items():
            if not storable_text(upload.name or ""):
                raise InputRejected({field: ["the file name contains a NUL character or a lone surrogate"]})
        return DataAndFiles(NestedData(nest_querydict(parsed.data)), parsed.files)
