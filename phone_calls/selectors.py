"""Reads of phone calls; all account scoping happens here."""

from datetime import datetime
from typing import NamedTuple

from django.db.models import Q, QuerySet

from accounts.models import Account
from callouts.models import Callout
from scfm.db import fetch_one_prepared

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
