from django.db.models import QuerySet

from accounts.models import Account

from .models import Contact


def contact_list(*, account: Account) -> QuerySet[Contact]:
    """The account's contacts."""
    return Contact.objects.filter(account=account)
