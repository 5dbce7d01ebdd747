"""Reads of phone calls, their callback events and recordings; all account scoping happens here."""

from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Account
from callouts.models import Callout
from scfm.db import fetch_one_prepared

from .models import PhoneCall, Recording, RemotePhoneCallEvent
from .statuses import IN_FLIGHT_STATUSES, PhoneCallStatus


def phone_call_list(*, account: Account) -> QuerySet[PhoneCall]:
    """The account's phone calls."""
    return PhoneCall.objects.filter(account=account)


def remote_phone_call_event_list(*, account: Account) -> QuerySet[RemotePhoneCallEvent]:
    """The account's callback events (through their phone calls)."""
    return RemotePhoneCallEvent.objects.filter(phone_call__account=account)


def recording_list(*, account: Account) -> QuerySet[Recording]:
    """The account's recordings."""
    return Recording.objects.filter(account=account)


def in_flight_call_of_participation() -> Exists:
    """An expression over phone calls: true when the call's participation has a call in flight (queued, remotely
    queued or in progress); the partial unique index on those calls answers it."""
    return Exists(
        PhoneCall.objects.filter(
            callout_participation_id=OuterRef("callout_participation_id"), status__in=IN_FLIGHT_STATUSES
        )
    )


def due_phone_calls(*, account_id: int, now: datetime) -> QuerySet[PhoneCall]:
    """`created` calls of the account's running callouts whose retry back-off (queue_after) has passed and whose
    participation has no call in flight (a second call of a participation waits until the first has settled)."""
    running = Callout.objects.filter(account_id=account_id, status=Callout.Status.RUNNING).values("id")
    return (
        PhoneCall.objects.filter(account_id=account_id, status=PhoneCallStatus.CREATED, callout_id__in=running)
        .filter(Q(queue_after__isnull=True) | Q(queue_after__lte=now))
        .filter(~in_flight_call_of_participation())
    )


class DialledCounts(NamedTuple):
    """An account's calls counted for the enqueue_calls command's limits."""

    in_flight: int  # queued, remotely queued or in progress
    recently_queued: int  # remotely queued since the start of the period


def phone_call_dialled_counts(*, account: Account, since: datetime) -> DialledCounts:
    """The account's in-flight calls and its calls remotely queued since `since`."""
    calls = phone_call_list(account=account)
    return DialledCounts(
        in_flight=calls.filter(status__in=IN_FLIGHT_STATUSES).count(),
        recently_queued=calls.filter(remotely_queued_at__gte=since).count(),
    )


def phone_call_status_count(*, account: Account, status: str) -> int:
    """How many of the account's calls are in `status`."""
    return phone_call_list(account=account).filter(status=status).count()


def phone_call_ids_awaiting_status(*, account: Account, min_age: timedelta, limit: int | None = None) -> QuerySet:
    """Ids of the account's dialled calls awaiting completion (remotely queued or in progress) created at least
    `min_age` ago, least recently fetched first (at most `limit`); for the update_calls command."""
    ids = (
        phone_call_list(account=account)
        .filter(
            status__in=(PhoneCallStatus.REMOTELY_QUEUED, PhoneCallStatus.IN_PROGRESS),
            remote_call_id__isnull=False,
            created_at__lte=timezone.now() - min_age,
        )
        .order_by("remote_status_fetch_queued_at", "id")
        .values_list("id", flat=True)
    )
    return ids[:limit] if limit is not None else ids


class CallState(NamedTuple):
    """The columns of a call that a status report reads (see status_callbacks)."""

    id: int
    status: str
    remote_status: str | None
    remotely_queued_at: datetime | None
    lock_version: int
    callout_participation_id: int | None
    call_flow_logic: str


class WebhookCredentials(NamedTuple):
    """What a webhook needs first: the account an AccountSid names, the token that signs for it, and the state of
    the call the CallSid names in that account (None when there is no such call)."""

    account_id: int
    auth_token: str | None
    call: CallState | None


_CALL_STATE_COLUMNS = ", ".join(f"c.{name}" for name in CallState._fields)
_WEBHOOK_CREDENTIALS_SQL = {
    # the unique index on LOWER(<provider>_account_sid), then the unique index on remote_call_id
    provider: f"""
SELECT a.id, a.{provider}_auth_token, {_CALL_STATE_COLUMNS}
FROM {Account._meta.db_table} a
LEFT JOIN {PhoneCall._meta.db_table} c ON c.remote_call_id = %(call_sid)s AND c.account_id = a.id
WHERE LOWER(a.{provider}_account_sid) = LOWER(%(account_sid)s)
LIMIT 1"""
    for provider in ("twilio", "somleng")
}


def webhook_credentials(*, account_sid: str, call_sid: str | None = None) -> WebhookCredentials | None:
    """The account `account_sid` names (`AC...`: Twilio, else Somleng) with its signing token, and the state of its
    call `call_sid`; None for an unknown account.

    One prepared query of a few columns, read on every callback (so a rotated or revoked token takes effect at once
    in every process) and written as SQL: a status callback's cost is mostly Python.
    """
    provider = "twilio" if account_sid.startswith("AC") else "somleng"
    row = fetch_one_prepared(_WEBHOOK_CREDENTIALS_SQL[provider], {"account_sid": account_sid, "call_sid": call_sid})
    if row is None:
        return None
    call = CallState(*row[2:]) if row[2] is not None else None
    return WebhookCredentials(row[0], row[1], call)
