"""Request body parsers: JSON, and form/multipart bodies with bracket keys, all producing nested dicts."""

import json

from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser

from scfm.query.params import nest_querydict


def _parse_json(raw: bytes):
    try:
        return json.loads(raw.decode("utf-8"))
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
                return json.loads(raw.decode("utf-8"))
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
        return DataAndFiles(NestedData(nest_querydict(parsed.data)), parsed.files)
