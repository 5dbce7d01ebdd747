import time
from typing import NamedTuple

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower
from django.db.models.signals import post_delete, post_save

from .models import AccessToken, Account, User


def _count_of(model_label: str):
    from django.apps import apps

    model = apps.get_model(model_label)
    counts = model.objects.filter(account=OuterRef("pk")).order_by().values("account").annotate(n=Count("pk"))
    return Coalesce(Subquery(counts.values("n")[:1], output_field=IntegerField()), 0)


def account_list() -> QuerySet[Account]:
    """Every account (super admins only), with the contact and phone-call counts the API shows."""
    return Account.objects.annotate(
        contacts_count=_count_of("contacts.Contact"), phone_calls_count=_count_of("phone_calls.PhoneCall")
    )


def account_find_by_platform_sid(account_sid: str | None) -> Account | None:
    """The account a webhook's AccountSid names: `AC...` is a Twilio SID, anything else a Somleng one."""
    if not account_sid:
        return None
    column = "twilio_account_sid" if account_sid.startswith("AC") else "somleng_account_sid"
    return Account.objects.annotate(sid=Lower(column)).filter(sid=account_sid.lower()).first()


class WebhookCredentials(NamedTuple):
    """What a webhook needs to know about the account an AccountSid names: its id and the token that signs."""

    account_id: int
    auth_token: str | None


# Per-process cache of AccountSid -> (expiry, WebhookCredentials): saves the account query of every provider
# callback. A token rotated in another process is picked up at the latest after the TTL, and at once by a caller that
# sees a signature fail (`fresh=True`); saving or deleting an account in this process empties the cache.
WEBHOOK_CREDENTIALS_TTL_SECONDS = 30.0
_webhook_credentials: dict[str, tuple[float, WebhookCredentials]] = {}


def account_webhook_credentials(account_sid: str, *, fresh: bool = False) -> tuple[WebhookCredentials | None, bool]:
    """(credentials of the account `account_sid` names or None, whether they came from the cache).

    `AC...` is a Twilio SID (the Twilio auth token signs), anything else a Somleng one. Unknown SIDs are not cached.
    `fresh=True` skips the cache and refreshes it.
    """
    now = time.monotonic()
    if not fresh:
        cached = _webhook_credentials.get(account_sid)
        if cached is not None and cached[0] > now:
            return cached[1], True
    account = account_find_by_platform_sid(account_sid)
    if account is None:
        _webhook_credentials.pop(account_sid, None)
        return None, False
    token = account.twilio_auth_token if account_sid.startswith("AC") else account.somleng_auth_token
    credentials = WebhookCredentials(account.pk, token)
    _webhook_credentials[account_sid] = (now + WEBHOOK_CREDENTIALS_TTL_SECONDS, credentials)
    return credentials, False


def account_webhook_credentials_forget(**_kwargs) -> None:
    """Empty the webhook credentials cache (connected to Account post_save / post_delete)."""
    _webhook_credentials.clear()


post_save.connect(account_webhook_credentials_forget, sender=Account, dispatch_uid="account_webhook_credentials_save")
post_delete.connect(
    account_webhook_credentials_forget, sender=Account, dispatch_uid="account_webhook_credentials_delete"
)


def access_token_list(*, account: Account) -> QuerySet[AccessToken]:
    return AccessToken.objects.filter(account=account)


def user_list(*, account: Account) -> QuerySet[User]:
    return User.objects.filter(account=account)
