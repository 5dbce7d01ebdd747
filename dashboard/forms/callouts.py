"""The callout form: the API's rules (call_flow_logic from the registry, audio_url up to 2048 characters, settings a
JSON object) so a page and the API refuse the same input. The name is kept in the callout's metadata (`name`):
the API has no name field (rest-api-current.txt), and metadata is where API clients see it."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from call_flow_logic.registry import is_registered, registered_names
from callouts.audio import audio_kind
from scfm.errors import DomainError

NAME_KEY = "name"


class CalloutForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    call_flow_logic = forms.ChoiceField(label=_("Call flow"))
    audio_url = forms.CharField(
        label=_("Audio URL"),
        max_length=2048,
        required=False,
        help_text=_("The message the call flow plays, e.g. https://example.org/warning.mp3"),
    )
    audio_file = forms.FileField(
        label=_("Or upload the audio"),
        required=False,
        help_text=_("MP3, WAV or Ogg. It replaces the audio URL."),
        widget=forms.ClearableFileInput(attrs={"accept": "audio/mpeg,audio/wav,audio/ogg"}),
    )
    settings = forms.CharField(
        label=_("Settings"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_('A JSON object, e.g. {"key": "value"}. Empty for none.'),
    )

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        names = registered_names()
        self.fields["call_flow_logic"].choices = [(name, name.removeprefix("CallFlowLogic::")) for name in names]
        if account is not None and not self.is_bound and "call_flow_logic" not in self.initial:
            self.initial["call_flow_logic"] = account.call_flow_logic

    @classmethod
    def initial_for(cls, callout) -> dict:
        return {
            "name": (callout.metadata or {}).get(NAME_KEY, ""),
            "call_flow_logic": callout.call_flow_logic,
            "audio_url": callout.audio_url or "",
            "settings": json.dumps(callout.settings, indent=2, ensure_ascii=False) if callout.settings else "",
        }

    def clean_call_flow_logic(self):
        value = self.cleaned_data["call_flow_logic"]
        if not is_registered(value):
            raise forms.ValidationError(_("is not included in the list"))
        return value

    def clean_audio_url(self):
        return self.cleaned_data["audio_url"].strip() or None

    def clean_audio_file(self):
        """The upload checked as callouts.audio does it (content sniffed, size capped): the same message as the API."""
        upload = self.cleaned_data.get("audio_file")
        if upload:
            try:
                audio_kind(upload)
            except DomainError as error:
                raise forms.ValidationError(list(error.errors.get("audio_file", [str(error)]))) from None
        return upload or None

    def clean_settings(self):
        text = self.cleaned_data["settings"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("is not valid JSON")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("must be a JSON object"))
        return value

    def service_kwargs(self) -> dict:
        """The keyword arguments of callouts.services.callout_create / callout_update."""
        data = self.cleaned_data
        return {
            "call_flow_logic": data["call_flow_logic"],
            "audio_url": data["audio_url"],
            "settings": data["settings"],
            "metadata": {NAME_KEY: data["name"]},
        }


def callout_name(callout) -> str:
    """What the dashboard calls a callout: its metadata name, else "Callout <id>"."""
    name = (callout.metadata or {}).get(NAME_KEY) if isinstance(callout.metadata, dict) else None
    return str(name) if name else _("Callout %(id)s") % {"id": callout.pk}
