"""Reads of accounts, their access tokens and users."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

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


def account_get(*, account_id) -> Account | None:
    """The account with this id (an int or its decimal string), or None."""
    return Account.objects.filter(pk=account_id).first()


def account_ids(*, limit: int) -> list[int]:
    """The ids of the first `limit` accounts in id order (the task commands' "the only account", or which ones)."""
    return list(Account.objects.order_by("pk").values_list("pk", flat=True)[:limit])


def access_token_list(*, account: Account) -> QuerySet[AccessToken]:
    """The account's access tokens."""
    return AccessToken.objects.filter(account=account)


def user_list(*, account: Account) -> QuerySet[User]:
    """The account's users."""
    return User.objects.filter(account=account)


def account_list_brief(*, limit: int) -> list[Account]:
    """The first `limit` accounts by id, with only what a picker shows (id, metadata, permissions)."""
    return list(Account.objects.order_by("pk").only("pk", "metadata", "permissions")[:limit])
