"""Forms of the Users, Account settings and API keys pages.

The account settings form checks nothing of its own about dialling settings: it hands the values to
accounts.services.account_update, whose `validate_settings` (accounts/settings.py) is the API's 422, and puts each
message next to the field it names, so a page and the API refuse the same input with the same words.
"""

import functools

from django import forms
from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import Permission, PlatformProvider
from accounts.settings import NUMBERS, RETRYABLE_STATUSES, time_zone_names
from call_flow_logic.registry import registered_names


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    locale = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="en")


# the dialling settings on the page, in order; each numeric one shows its range and unit from accounts/settings.py
NUMBER_LABELS = {
    "phone_call_queue_limit": _("Calls in flight at once"),
    "max_calls_per_second": _("Calls started per second (0: no limit)"),
    "max_phone_calls_for_callout_participation": _("Attempts per contact"),
    "retry_backoff_seconds": _("Wait before a retry"),
    "simulator_delay_seconds": _("Simulator: seconds until a call ends"),
    "simulator_call_duration": _("Simulator: length of an answered call"),
}
UNITS = {"calls": _("calls"), "calls per second": _("calls per second"), "seconds": _("seconds")}
CREDENTIALS = ("twilio_auth_token", "somleng_auth_token")


def masked(secret: str | None) -> str:
    """How a saved credential is shown: its last 4 characters only ("••••abcd"), or "" when none is saved."""
    return f"••••{secret[-4:]}" if secret else ""


class AccountSettingsForm(forms.Form):
    platform_provider_name = forms.ChoiceField(
        label=_("Telephony provider"),
        required=False,
        choices=[("", _("Server default"))] + [(value, label) for value, label in PlatformProvider.choices],
    )
    twilio_account_sid = forms.CharField(label=_("Twilio account SID"), required=False, max_length=255)
    twilio_auth_token = forms.CharField(
        label=_("Twilio auth token"), required=False, max_length=255, widget=forms.PasswordInput(render_value=False)
    )
    somleng_account_sid = forms.CharField(label=_("Somleng account SID"), required=False, max_length=255)
    somleng_auth_token = forms.CharField(
        label=_("Somleng auth token"), required=False, max_length=255, widget=forms.PasswordInput(render_value=False)
    )
    somleng_api_host = forms.CharField(label=_("Somleng API host"), required=False, max_length=255)
    somleng_api_base_url = forms.CharField(label=_("Somleng API base URL"), required=False, max_length=255)
    clear_credentials = forms.MultipleChoiceField(
        label=_("Forget a saved auth token"),
        required=False,
        choices=[("twilio_auth_token", _("Twilio auth token")), ("somleng_auth_token", _("Somleng auth token"))],
        widget=forms.CheckboxSelectMultiple,
    )
    call_flow_logic = forms.ChoiceField(label=_("Default call flow"))
    from_phone_number = forms.CharField(label=_("Caller ID (From number)"), required=False, max_length=64)
    phone_call_queue_limit = forms.CharField(required=False, max_length=32)
    max_calls_per_second = forms.CharField(required=False, max_length=32)
    max_phone_calls_for_callout_participation = forms.CharField(required=False, max_length=32)
    retry_statuses = forms.MultipleChoiceField(
        label=_("Retry calls that ended"),
        required=False,
        choices=[(status, status.replace("_", " ")) for status in sorted(RETRYABLE_STATUSES)],
        widget=forms.CheckboxSelectMultiple,
    )
    retry_backoff_seconds = forms.CharField(required=False, max_length=32)
    simulator_delay_seconds = forms.CharField(required=False, max_length=32)
    simulator_call_duration = forms.CharField(required=False, max_length=32)
    # a text field with a <datalist> of the zone names (time_zone_datalist): a <select> of ~600 options costs
    # ~50x more to render through Django's widget templates than the rest of the page (measured)
    time_zone = forms.CharField(
        label=_("Time zone"),
        required=False,
        max_length=64,
        help_text=_("For example Asia/Phnom_Penh or UTC."),
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["call_flow_logic"].choices = [(name, name) for name in registered_names()]
        for key, label in NUMBER_LABELS.items():
            spec = NUMBERS[key]
            self.fields[key].label = label
            self.fields[key].help_text = _("%(low)s to %(high)s %(unit)s") % {
                "low": f"{spec.low:,}",
                "high": f"{spec.high:,}",
                "unit": UNITS.get(spec.unit, spec.unit),
            }
            self.fields[key].widget.attrs.update({"inputmode": "decimal"})

    def settings_hash(self, current: dict) -> dict:
        """The new settings hash: `current` (free-form keys and settings the page does not show are kept) with the
        page's values; a blank field removes its key (its default applies). Numbers that parse are sent as
        numbers, anything else as typed, for validate_settings to name."""
        data = dict(current or {})
        for key in ("from_phone_number", "time_zone", *NUMBER_LABELS):
            value = (self.cleaned_data.get(key) or "").strip()
            if value == "":
                data.pop(key, None)
            elif key in NUMBERS:
                data[key] = _number_or_text(value, NUMBERS[key].kind)
            else:
                data[key] = value
        data["retry_statuses"] = sorted(self.cleaned_data.get("retry_statuses") or [])
        if not data["retry_statuses"]:
            data.pop("retry_statuses")
        return data

    def account_fields(self, account) -> dict:
        """The account columns to write: credentials left blank keep the saved ones (write-only fields)."""
        fields = {
            key: (self.cleaned_data.get(key) or "").strip() or None
            for key in (
                "platform_provider_name",
                "twilio_account_sid",
                "somleng_account_sid",
                "somleng_api_host",
                "somleng_api_base_url",
                "call_flow_logic",
            )
        }
        for key in CREDENTIALS:
            if key in (self.cleaned_data.get("clear_credentials") or []):
                fields[key] = None
            elif self.cleaned_data.get(key):
                fields[key] = self.cleaned_data[key].strip()
        return fields


@functools.cache
def time_zone_datalist() -> str:
    """The <datalist> of every zone name, built once (names are ASCII letters, digits, "/", "_", "-", "+")."""
    options = "".join(f'<option value="{escape(name)}">' for name in sorted(time_zone_names()))
    return mark_safe(f'<datalist id="time-zones">{options}</datalist>')


def _number_or_text(value: str, kind: type) -> int | float | str:
    try:
        return kind(value)
    except (TypeError, ValueError, OverflowError):
        return value


def initial_settings_form(account) -> dict:
    """The form's initial values from the account (never its credentials)."""
    raw = account.settings or {}
    initial = {
        key: getattr(account, key) or ""
        for key in (
            "platform_provider_name",
            "twilio_account_sid",
            "somleng_account_sid",
            "somleng_api_host",
            "somleng_api_base_url",
            "call_flow_logic",
        )
    }
    for key in ("from_phone_number", "time_zone", *NUMBER_LABELS):
        initial[key] = "" if raw.get(key) is None else str(raw.get(key))
    statuses = raw.get("retry_statuses")
    if isinstance(statuses, str):
        statuses = [item.strip() for item in statuses.split(",")]
    initial["retry_statuses"] = statuses or ["busy", "failed", "not_answered"]
    initial["time_zone"] = initial["time_zone"] or "UTC"
    return initial


class ApiKeyForm(forms.Form):
    """A new API key: a name and its permissions, offered only among those the signed-in user holds (the
    no-escalation rule of accounts.services.access_token_create, which checks again)."""

    name = forms.CharField(label=_("Name"), max_length=255, required=False)
    permissions = forms.MultipleChoiceField(label=_("Permissions"), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, held: frozenset[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = [(value, value) for value in Permission.values if value in held]
