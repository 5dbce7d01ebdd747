"""Forms of the Contacts pages: the filter rows (turned into the API's `q` language), a contact (msisdn + metadata
key/value rows) and the CSV upload."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

METADATA_ROWS = 3  # empty key/value rows offered beside a contact's own
# the filter rows' operators -> the suffix of the q[metadata] key (scfm/query/json_query.py)
OPERATORS = {
    "eq": ("", _("is")),
    "in": (".in", _("is one of (comma-separated)")),
    "any": (".any", _("list holds one of (comma-separated)")),
    "gt": (".numeric.gt", _("number greater than")),
    "lt": (".numeric.lt", _("number less than")),
    "date_gt": (".date.gt", _("date after")),
    "date_lt": (".date.lt", _("date before")),
    "exists": (".exists", _("exists (true/false)")),
}


def filter_rows(querydict) -> list[dict]:
    """The filter rows of a GET (`mk`, `mo`, `mv` repeated), with at least one empty row."""
    keys, ops, values = querydict.getlist("mk"), querydict.getlist("mo"), querydict.getlist("mv")
    rows = [
        {"key": key.strip(), "op": op if op in OPERATORS else "eq", "value": value}
        for key, op, value in zip(keys, ops + ["eq"] * len(keys), values + [""] * len(keys), strict=False)
        if key.strip()
    ]
    return [*rows, {"key": "", "op": "eq", "value": ""}]


def rows_to_query(rows: list[dict]) -> dict:
    """The `q[metadata]` hash of the filter rows (`{"district.any": ["1", "2"], "age.numeric.gt": "30"}`)."""
    metadata = {}
    for row in rows:
        if not row["key"]:
            continue
        suffix = OPERATORS[row["op"]][0]
        value = row["value"]
        if row["op"] in ("in", "any"):
            value = [item.strip() for item in value.split(",") if item.strip()]
        metadata[f"{row['key']}{suffix}"] = value
    return metadata


class ContactForm(forms.Form):
    """msisdn plus metadata rows (meta_key / meta_value, repeated). A value that is JSON for a list or a hash is
    stored as one; anything else as the text typed, except that a value left as it was shown keeps its type
    (`original`: the contact's metadata, so an unchanged number stays a number)."""

    msisdn = forms.CharField(label=_("Phone number"), max_length=64)

    def __init__(self, *args, original: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.original = dict(original or {})
        metadata_rows = metadata_rows_of(self.original)
        if self.is_bound:
            keys, values = self.data.getlist("meta_key"), self.data.getlist("meta_value")
            self.metadata_rows = list(zip(keys, values + [""] * len(keys), strict=False))
        else:
            self.metadata_rows = list(metadata_rows or [])
        self.metadata_rows += [("", "")] * METADATA_ROWS

    def clean(self):
        cleaned = super().clean()
        metadata, errors = {}, []
        for key, value in self.metadata_rows:
            key = key.strip()
            if not key:
                if str(value).strip():
                    errors.append(_("A metadata value needs a key."))
                continue
            if key in metadata:
                errors.append(_("The metadata key %(key)s is given twice.") % {"key": key})
            unchanged = key in self.original and (key, value) in metadata_rows_of({key: self.original[key]})
            metadata[key] = self.original[key] if unchanged else _value(value)
        if errors:
            raise forms.ValidationError(errors)
        cleaned["metadata"] = metadata
        return cleaned


def _value(text: str):
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            return text
        if isinstance(parsed, list | dict):
            return parsed
    return text


def metadata_rows_of(metadata: dict) -> list[tuple[str, str]]:
    """A contact's metadata as rows of text (lists, hashes, numbers and booleans as JSON)."""
    return [(key, value if isinstance(value, str) else json.dumps(value)) for key, value in (metadata or {}).items()]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
