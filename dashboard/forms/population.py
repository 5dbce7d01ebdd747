"""Forms of the population builder, rehearsals and "call me first".

The builder is rows of metadata key / operator / value (a formset). `FilterRowsForm.contact_filter_params()` turns
the rows into the contacts `q[...]` language the API reads (rest-api-current "Filtering"; scfm/query/json_query.py):
`{"metadata": {"gender": "f", "born.date.gt": "2000-01-01", "districts.any": "1,2", "left.exists": "false"}}`.
What the language itself refuses is refused by the same code as the API (batch_operations.selectors /
services raise QueryError), shown above the rows; what a single row gets wrong is shown next to it.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

# operator -> (label, suffix of the key, value kind)
OPERATORS = {
    "eq": (_("is"), "", "text"),
    "in": (_("is one of (comma-separated)"), ".in", "text"),
    "any": (_("contains any of (comma-separated)"), ".any", "text"),
    "lt": (_("is less than"), ".lt", "ordered"),
    "lteq": (_("is at most"), ".lteq", "ordered"),
    "gt": (_("is more than"), ".gt", "ordered"),
    "gteq": (_("is at least"), ".gteq", "ordered"),
    "exists": (_("is present (yes/no)"), ".exists", "boolean"),
}
VALUE_TYPES = [("text", _("text")), ("numeric", _("number")), ("date", _("date"))]
MAX_ROWS = 10
YES = {"yes", "true", "1", "y"}
NO = {"no", "false", "0", "n"}


class FilterRowForm(forms.Form):
    """One condition: a metadata key, an operator, the value's type (for comparisons) and the value."""

    key = forms.CharField(label=_("Metadata key"), required=False, max_length=200)
    operator = forms.ChoiceField(
        label=_("Operator"), choices=[(name, label) for name, (label, _s, _k) in OPERATORS.items()], initial="eq"
    )
    value_type = forms.ChoiceField(label=_("Type"), choices=VALUE_TYPES, initial="text")
    value = forms.CharField(label=_("Value"), required=False, max_length=1000)

    def clean(self):
        data = super().clean()
        key, operator, kind = data.get("key", "").strip(), data.get("operator"), data.get("value_type")
        value = data.get("value", "").strip()
        if not key:
            if value:
                self.add_error("key", _("Enter the metadata key this value is for."))
            return data
        if operator is None:
            return data
        value_kind = OPERATORS[operator][2]
        if value_kind == "boolean":
            if value.lower() not in YES | NO:
                self.add_error("value", _("Enter yes or no."))
        elif not value:
            self.add_error("value", _("Enter a value."))
        elif value_kind == "ordered" and kind == "numeric":
            try:
                Decimal(value)
            except InvalidOperation:
                self.add_error("value", _("Enter a number."))
        elif value_kind == "ordered" and kind == "date":
            try:
                date.fromisoformat(value)
            except ValueError:
                self.add_error("value", _("Enter a date as YYYY-MM-DD."))
        data["key"], data["value"] = key, value
        return data

    def condition(self) -> tuple[str, str] | None:
        """(key of the q language, value) of a valid row; None for an empty row."""
        data = self.cleaned_data
        if not data.get("key"):
            return None
        operator, kind, value = data["operator"], data["value_type"], data["value"]
        _label, suffix, value_kind = OPERATORS[operator]
        if value_kind == "boolean":
            return f"{data['key']}{suffix}", "true" if value.lower() in YES else "false"
        cast = f".{kind}" if value_kind == "ordered" and kind != "text" else ""
        return f"{data['key']}{cast}{suffix}", value


class BaseFilterRowFormSet(forms.BaseFormSet):
    def contact_filter_params(self) -> dict:
        """The rows as contact_filter_params (every contact when no row is filled in)."""
        metadata = dict(condition for form in self.forms if (condition := form.condition()))
        return {"metadata": metadata} if metadata else {}


FilterRowFormSet = forms.formset_factory(
    FilterRowForm, formset=BaseFilterRowFormSet, extra=0, max_num=MAX_ROWS, absolute_max=MAX_ROWS, validate_max=True
)


def filter_rows(data=None, rows: int = 3) -> BaseFilterRowFormSet:
    """The builder's formset (prefix `rows`), bound to `data` when given, else `rows` empty rows."""
    if data is not None:
        return FilterRowFormSet(data, prefix="rows")
    return FilterRowFormSet(prefix="rows", initial=[{}] * max(1, min(rows, MAX_ROWS)))


class CallMeForm(forms.Form):
    """The signed-in user's own number (normalised by contacts/phone_numbers.py when saved)."""

    phone_number = forms.CharField(
        label=_("Your phone number"),
        max_length=64,
        help_text=_("With its country code, e.g. +855 12 345 678. It is saved for next time."),
    )


class PhoneCallFilterForm(forms.Form):
    """The status filter of phone call lists (empty: every status)."""

    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), *statuses]


class CalloutAudioForm(forms.Form):
    """An audio file for the callout's message (checked by content and size in callouts/audio.py)."""

    audio_file = forms.FileField(
        label=_("Audio file"), help_text=_("MP3, WAV or Ogg. It replaces the callout's audio URL.")
    )


class ParticipationFilterForm(forms.Form):
    """The outcome filter of a callout's participations (empty: all of them)."""

    status = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[
            ("", _("Any outcome")),
            ("answered", _("Answered")),
            ("still_to_call", _("Still to call")),
            ("given_up", _("Given up")),
        ],
    )
