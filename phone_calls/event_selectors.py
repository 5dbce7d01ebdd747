"""Reads for remote phone call events and recordings; all account scoping happens here."""

from django.db.models import QuerySet

from accounts.models import Account

from .models import Recording, RemotePhoneCallEvent


def remote_phone_call_event_list(*, account: Account) -> QuerySet[RemotePhoneCallEvent]:
    """The account's callback events (through their phone calls)."""
    return RemotePhoneCallEvent.objects.filter(phone_call__account=account)


def recording_list(*, account: Account) -> QuerySet[Recording]:
    return Recording.objects.filter(account=account)
