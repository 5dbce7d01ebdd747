"""Reads of phone calls; all account scoping happens here."""

from datetime import datetime

from django.db.models import Q, QuerySet

from accounts.models import Account
from callouts.models import Callout

from .models import PhoneCall, PhoneCallStatus


def phone_call_list(*, account: Account) -> QuerySet[PhoneCall]:
    """The account's phone calls."""
    return PhoneCall.objects.filter(account=account)


def due_phone_calls(*, account_id: int, now: datetime) -> QuerySet[PhoneCall]:
    """`created` calls of the account's running callouts whose retry back-off (queue_after) has passed."""
    running = Callout.objects.filter(account_id=account_id, status=Callout.Status.RUNNING).values("id")
    return PhoneCall.objects.filter(
        account_id=account_id, status=PhoneCallStatus.CREATED, callout_id__in=running
    ).filter(Q(queue_after__isnull=True) | Q(queue_after__lte=now))
