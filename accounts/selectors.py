from typing import NamedTuple

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower

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


class WebhookCredentials(NamedTuple):
    """What a webhook needs to know about the account an AccountSid names: its id and the token that signs."""

    account_id: int
    auth_token: str | None


def account_webhook_credentials(account_sid: str) -> WebhookCredentials | None:
    """The id and signing token of the account `account_sid` names (`AC...`: Twilio, else Somleng), or None.

    Read from the database on every callback (one indexed query of two columns), so a rotated or revoked token
    takes effect at once in every process.
    """
    column = "twilio_account_sid" if account_sid.startswith("AC") else "somleng_account_sid"
    token_column = "twilio_auth_token" if account_sid.startswith("AC") else "somleng_auth_token"
    row = (
        Account.objects.annotate(sid=Lower(column))
        .filter(sid=account_sid.lower())
        .values_list("pk", token_column)
        .first()
    )
    return WebhookCredentials(*row) if row else None


def access_token_list(*, account: Account) -> QuerySet[AccessToken]:
    return AccessToken.objects.filter(account=account)


def user_list(*, account: Account) -> QuerySet[User]:
    return User.objects.filter(account=account)
