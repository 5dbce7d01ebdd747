"""X-Twilio-Signature checks for provider webhooks, with the auth token of the account that AccountSid names.

The signed URL is rebuilt under SCFM_PUBLIC_URL (the address the provider was given), so the check holds behind a
TLS-terminating proxy.
"""

from django.conf import settings
from twilio.request_validator import RequestValidator

from accounts.models import Account
from accounts.selectors import account_find_by_platform_sid


class WebhookRejected(Exception):
    """A webhook we refuse: `status` is 400 (malformed) or 403 (not signed by a known account)."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


FORBIDDEN = "Twilio Request Validation Failed."


def _auth_token(account: Account, account_sid: str) -> str | None:
    return account.twilio_auth_token if account_sid.startswith("AC") else account.somleng_auth_token


def webhook_params(request) -> dict:
    """The posted form as a flat dict (last value wins); 400 for a body that is not a form."""
    try:
        return {key: value for key, value in request.POST.items()}
    except Exception:  # noqa: BLE001 - a body Django cannot parse is the caller's fault
        raise WebhookRejected(400, "Malformed request body.") from None


def webhook_account(request, params: dict) -> Account:
    """The account that signed this request, or WebhookRejected (403 unsigned/unknown/bad, 400 no AccountSid)."""
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        raise WebhookRejected(403, FORBIDDEN)
    account_sid = str(params.get("AccountSid") or "").strip()
    if not account_sid:
        raise WebhookRejected(400, "AccountSid is missing.")
    account = account_find_by_platform_sid(account_sid)
    token = _auth_token(account, account_sid) if account else None
    if not token:
        raise WebhookRejected(403, FORBIDDEN)
    url = settings.SCFM_PUBLIC_URL + request.get_full_path()
    if not RequestValidator(token).validate(url, request.POST, signature):
        raise WebhookRejected(403, FORBIDDEN)
    return account
