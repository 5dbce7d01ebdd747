"""X-Twilio-Signature checks for provider webhooks, with the auth token of the account that AccountSid names.

The signed URL is rebuilt under SCFM_PUBLIC_URL (the address the provider was given), so the check holds behind a
TLS-terminating proxy.
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from twilio.request_validator import RequestValidator

from accounts.models import Account
from accounts.selectors import account_webhook_credentials


class WebhookRejected(Exception):
    """A webhook we refuse: `status` is 400 (malformed) or 403 (not signed by a known account)."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


FORBIDDEN = "Twilio Request Validation Failed."


def webhook_params(request) -> dict:
    """The posted form as a flat dict (last value wins); 400 for a body that is not a form."""
    try:
        return {key: value for key, value in request.POST.items()}
    except Exception:  # noqa: BLE001 - a body Django cannot parse is the caller's fault
        raise WebhookRejected(400, "Malformed request body.") from None


def _signed_by(token: str | None, url: str, request, signature: str) -> bool:
    return bool(token) and RequestValidator(token).validate(url, request.POST, signature)


def webhook_account(request, params: dict) -> Account:
    """The account that signed this request, or WebhookRejected (403 unsigned/unknown/bad, 400 no AccountSid).

    The account comes back with only its id loaded: any other field is read from the database when first used, so
    a status callback needs nothing more than the id and the token.
    """
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        raise WebhookRejected(403, FORBIDDEN)
    account_sid = str(params.get("AccountSid") or "").strip()
    if not account_sid:
        raise WebhookRejected(400, "AccountSid is missing.")
    url = settings.SCFM_PUBLIC_URL + request.get_full_path()
    credentials = account_webhook_credentials(account_sid)
    if credentials is None or not _signed_by(credentials.auth_token, url, request, signature):
        raise WebhookRejected(403, FORBIDDEN)
    return Account.from_db(DEFAULT_DB_ALIAS, ["id"], [credentials.account_id])
