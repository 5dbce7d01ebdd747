"""Retries after busy / no answer / failed: the account's retry policy and the scheduling of the next attempt.

When a status report ends an attempt (lifecycle.phone_call_apply_remote_status, or the webhook's locked path), a
call that ended in one of the account's `retry_statuses` (default not_answered, busy, failed) gets a successor:
a new `created` call of the same participation, due after `retry_backoff_seconds` (default 15 minutes), while the
participation is unanswered and has fewer than `max_phone_calls_for_callout_participation` calls (never more than
10). The dispatcher (dispatch.py) then dials it like any other due call.
"""

from datetime import timedelta

from django.utils import timezone

from accounts.settings import AccountSettings
from callouts.models import CalloutParticipation

from .models import PhoneCall
from .services import phone_call_create_for_participation
from .statuses import ACTIVE_STATUSES


def retry_settings(account) -> tuple[set[str], int, int]:
    """(statuses that are retried, back-off seconds, max calls per participation) for an account (accounts/settings.py;
    junk in the settings hash reads as the default, so it never fails a status callback)."""
    s = AccountSettings.from_account(account)
    return set(s.retry_statuses), s.retry_backoff_seconds, s.max_phone_calls_for_callout_participation


def phone_call_retry_schedule(*, phone_call: PhoneCall) -> PhoneCall | None:
    """After a failed attempt, create the next `created` call of the participation, due after the back-off.

    Only while the participation is unanswered, has fewer calls than the account's maximum (never more than 10)
    and no other call waiting or in flight (ACTIVE_STATUSES). The participation's row is locked first, and every
    writer of a call locks it before inserting (services.phone_call_create_for_participation, the PhoneCallCreate
    batch), so a call made meanwhile by hand or by a batch is seen and no retry is added beside it. Returns the new
    call, or None when no retry is due. Call it inside the transaction that ended the attempt.
    """
    account = phone_call.account
    statuses, backoff, maximum = retry_settings(account)
    if phone_call.status not in statuses or phone_call.callout_participation_id is None:
        return None
    participation = (
        CalloutParticipation.objects.select_for_update().filter(pk=phone_call.callout_participation_id).first()
    )
    if participation is None or participation.answered or participation.phone_calls_count >= maximum:
        return None
    if participation.phone_calls.filter(status__in=ACTIVE_STATUSES).exists():
        return None
    return phone_call_create_for_participation(
        participation=participation, queue_after=timezone.now() + timedelta(seconds=backoff)
    )
