"""Retries after busy / no answer / failed: the account's retry policy and the scheduling of the next attempt.

When a status report ends an attempt (lifecycle.phone_call_apply_remote_status, or the webhook's locked path), a
call that ended in one of the account's `retry_statuses` (default not_answered, busy, failed) gets a successor:
a new `created` call of the same participation, due after `retry_backoff_seconds` (default 15 minutes), while the
participation is unanswered and has fewer than `max_phone_calls_for_callout_participation` calls (never more than
10). The dispatcher (dispatch.py) then dials it like any other due call.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import DEFAULT_ACCOUNT_SETTINGS
from callouts.models import CalloutParticipation

from .models import PhoneCall
from .services import phone_call_create_for_participation
from .statuses import ACTIVE_STATUSES, PhoneCallStatus

DEFAULT_RETRY_STATUSES = (PhoneCallStatus.NOT_ANSWERED, PhoneCallStatus.BUSY, PhoneCallStatus.FAILED)
DEFAULT_RETRY_BACKOFF_SECONDS = 15 * 60
MAX_PHONE_CALLS_PER_PARTICIPATION = 10
MAX_RETRY_BACKOFF_SECONDS = 30 * 24 * 3600


def retry_settings(account) -> tuple[set[str], int, int]:
    """(statuses that are retried, back-off seconds, max calls per participation) for an account."""
    statuses = account.setting("retry_statuses") or list(DEFAULT_RETRY_STATUSES)
    if isinstance(statuses, str):
        statuses = [item.strip() for item in statuses.split(",") if item.strip()]
    if not isinstance(statuses, list | tuple):
        statuses = list(DEFAULT_RETRY_STATUSES)
    try:
        backoff = int(account.setting("retry_backoff_seconds") or DEFAULT_RETRY_BACKOFF_SECONDS)
    except (TypeError, ValueError, OverflowError):  # junk in the settings hash must not fail a status callback
        backoff = DEFAULT_RETRY_BACKOFF_SECONDS
    backoff = min(max(backoff, 0), MAX_RETRY_BACKOFF_SECONDS)
    try:
        maximum = int(account.setting("max_phone_calls_for_callout_participation"))
    except (TypeError, ValueError):
        maximum = DEFAULT_ACCOUNT_SETTINGS["max_phone_calls_for_callout_participation"]
    return {str(status) for status in statuses}, backoff, min(maximum, MAX_PHONE_CALLS_PER_PARTICIPATION)


def phone_call_retry_schedule(*, phone_call: PhoneCall) -> PhoneCall | None:
    """After a failed attempt, create the next `created` call of the participation, due after the back-off.

    Only while the participation is unanswered, has fewer calls than the account's maximum (never more than 10)
    and no other live call. The partial unique index on live calls per participation backs this up. Returns the new
    call, or None when no retry is due. Call it inside the transaction that ended the attempt.
    """
    account = phone_call.account
    statuses, backoff, maximum = retry_settings(account)
    if phone_call.status not in statuses:
        return None
    participation = (
        CalloutParticipation.objects.select_for_update().filter(pk=phone_call.callout_participation_id).first()
    )
    if participation is None or participation.answered or participation.phone_calls_count >= maximum:
        return None
    if participation.phone_calls.filter(status__in=ACTIVE_STATUSES).exists():
        return None
    try:
        with transaction.atomic():  # a live call inserted concurrently (API, batch) wins: no retry, no 500
            return phone_call_create_for_participation(
                participation=participation, queue_after=timezone.now() + timedelta(seconds=backoff)
            )
    except IntegrityError:
        return None
