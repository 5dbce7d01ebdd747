"""Reads of phone calls; all account scoping happens here."""

from django.db.models import QuerySet

from accounts.models import Account

from .models import PhoneCall


def phone_call_list(*, account: Account) -> QuerySet[PhoneCall]:
    """The account's phone calls."""
    return PhoneCall.objects.filter(account=account)


def phone_call_get(*, account: Account, pk) -> PhoneCall:
    return phone_call_list(account=account).get(pk=pk)
