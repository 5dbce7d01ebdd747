"""Reads of contacts and contact imports, always scoped to one account."""

from django.db.models import QuerySet

from accounts.models import Account

from .models import Contact, ContactImport


def contact_list(*, account: Account) -> QuerySet[Contact]:
    """The account's contacts."""
    return Contact.objects.filter(account=account)


def contact_get(*, account_id: int, contact_id) -> Contact | None:
    """The account's contact with this id, or None (also when it belongs to another account)."""
    return Contact.objects.filter(account_id=account_id, pk=contact_id).first()


def contact_import_list(*, account: Account) -> QuerySet[ContactImport]:
    """The account's contact imports."""
    return ContactImport.objects.filter(account=account)
