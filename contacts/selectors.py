"""Reads of contacts and contact imports, always scoped to one account."""

from django.db.models import QuerySet

from accounts.models import Account

from .models import Contact, ContactImport


def contact_list(*, account: Account) -> QuerySet[Contact]:
    """The account's contacts."""
    return Contact.objects.filter(account=account)


def contact_import_list(*, account: Account) -> QuerySet[ContactImport]:
    """The account's contact imports."""
    return ContactImport.objects.filter(account=account)
