"""X-Twilio-Signature checks for provider webhooks, with the auth token of the account that AccountSid names.

The signed URL is rebuilt under SCFM_PUBLIC_URL (the address the provider was given), so the check holds behind a
TLS-terminating proxy.
"""

import hmac
from functools import cache
from urllib.parse import parse_qsl, urlparse

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from twilio.request_validator import RequestValidator, add_port, remove_port

from accounts.models import Account

from ..selectors import WebhookCredentials, webhook_credentials


class WebhookRejected(Exception):
    """A webhook we refuse: `status` is 400 (malformed) or 403 (not signed by a known account)."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


FORBIDDEN = "Twilio Request Validation Failed."
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class PostedForm(dict):
    """A posted form: each name's last value (what handlers read), with every value kept for the signature."""

    def __init__(self, pairs: list[tuple[str, str]]):
        super().__init__(pairs)
        self._pairs = pairs

    def getlist(self, name: str) -> list[str]:
        if len(self._pairs) == len(self):
            return [self[name]]
        return [value for key, value in self._pairs if key == name]


# Parameters stored in (or looked up by) a bounded column, and that column: a longer value is a 400 here rather
# than a database error later. (NULs and lone surrogates never get this far: scfm.middleware.EdgeMiddleware.)
BOUNDED_PARAMS = {
    "AccountSid": ("phone_calls.PhoneCall", "remote_call_id"),  # an account's SID: no longer than a call's
    "CallSid": ("phone_calls.PhoneCall", "remote_call_id"),
    "CallStatus": ("phone_calls.PhoneCall", "remote_status"),
    "Direction": ("phone_calls.PhoneCall", "remote_direction"),
    "RecordingSid": ("phone_calls.Recording", "external_recording_id"),
    "RecordingUrl": ("phone_calls.Recording", "external_recording_url"),
}


@cache
def _max_lengths() -> dict[str, int]:
    return {
        name: apps.get_model(model)._meta.get_field(column).max_length
        for name, (model, column) in BOUNDED_PARAMS.items()
    }


def webhook_params(request) -> PostedForm:
    """The posted form (parsed without a QueryDict: callbacks are the busiest requests); 400 for a body that is
    not a form, or a BOUNDED_PARAMS value longer than its column."""
    try:
        if request.content_type == FORM_CONTENT_TYPE:
            pairs = parse_qsl(
                request.body.decode(request.encoding or "utf-8"),
                keep_blank_values=True,
                max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
            )
        else:
            pairs = [(key, value) for key, values in request.POST.lists() for value in values]
    except Exception:  # noqa: BLE001 - a body Django cannot parse is the caller's fault
        raise WebhookRejected(400, "Malformed request body.") from None
    for name, value in pairs:
        limit = _max_lengths().get(name)
        if limit is not None and len(value) > limit:
            raise WebhookRejected(400, f"{name} is longer than {limit} characters.")
    return PostedForm(pairs)


def _signed_by(token: str | None, url: str, params: PostedForm, signature: str) -> bool:
    """Twilio's check (the URL as given, then with its port added or removed), comparing digests in C."""
    if not token:
        return False
    validator = RequestValidator(token)
    parsed = urlparse(url)
    return any(
        hmac.compare_digest(validator.compute_signature(candidate, params).encode(), signature.encode())
        for candidate in (url, remove_port(parsed), add_port(parsed))
    )


def webhook_signer(request, params: dict) -> WebhookCredentials:
    """The account that signed this request, with the state of the call its CallSid names; WebhookRejected (403
    unsigned/unknown/bad, 400 no AccountSid) otherwise."""
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        raise WebhookRejected(403, FORBIDDEN)
    account_sid = str(params.get("AccountSid") or "").strip()
    if not account_sid:
        raise WebhookRejected(400, "AccountSid is missing.")
    url = settings.SCFM_PUBLIC_URL + request.get_full_path()
    credentials = webhook_credentials(account_sid=account_sid, call_sid=str(params.get("CallSid") or "") or None)
    if credentials is None or not _signed_by(credentials.auth_token, url, params, signature):
        raise WebhookRejected(403, FORBIDDEN)
    return credentials


def signer_account(credentials: WebhookCredentials) -> Account:
    """The signing account with only its id loaded: any other field is read from the database when first used,
    so a status callback needs nothing more than the id and the token."""
    return Account.from_db(DEFAULT_DB_ALIAS, ["id"], [credentials.account_id])
