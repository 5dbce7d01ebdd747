"""A domain error (scfm.errors.DomainError, the API's 422) shown on a form, each message next to its field."""

from django import forms

from scfm.errors import DomainError


def add_domain_errors(form: forms.Form, error: DomainError, settings_fields: tuple[str, ...] = ()) -> None:
    """Put `error.errors` ({"field": ["message"]}) on `form`: a key naming a form field goes next to it; the
    messages of "settings" ("phone_call_queue_limit must be between 0 and 1000000") go next to the field they start
    with (among `settings_fields`); anything else is a form-wide error."""
    for key, messages in error.errors.items():
        for message in messages if isinstance(messages, list) else [messages]:
            text = str(message)
            target = key if key in form.fields else None
            if key == "settings":
                target = next((name for name in settings_fields if text.startswith(f"{name} ")), None)
            form.add_error(target, text)
