"""The phone-call lifecycle shared by the dialler, the webhooks, status polling and the simulator.

Every status report from a provider goes through `phone_call_record_remote_status` (or, for a caller that holds the
row lock already, `phone_call_apply_remote_status`), which locks the row, moves the call forward only (late or
duplicated callbacks are harmless), marks the participation answered on `completed` and schedules the retry of a
call that ended busy / not answered / failed.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.settings import AccountSettings
from callouts.models import CalloutParticipation

from .models import ACTIVE_STATUSES, PhoneCall, PhoneCallStatus

MAX_DURATION_SECONDS = 2**31 - 1  # the duration columns are 32-bit integers


def seconds(value) -> int:
    """A provider's duration parameter (CallDuration, RecordingDuration) as whole seconds; 0 when blank or junk."""
    try:
        return min(max(int(float(value)), 0), MAX_DURATION_SECONDS)
    except (TypeError, ValueError, OverflowError):
        return 0


@transaction.atomic
def phone_call_record_remote_status(
    *,
    phone_call_id: int,
    remote_status: str | None,
    duration=None,
    remote_response: dict | None = None,
    remote_direction: str | None = None,
) -> PhoneCall:
    """Apply a provider's status report to a call, under a row lock. Returns the updated call."""
    return phone_call_apply_remote_status(
        PhoneCall.objects.select_for_update().get(pk=phone_call_id),
        remote_status=remote_status,
        duration=duration,
        remote_response=remote_response,
        remote_direction=remote_direction,
    )


def phone_call_apply_remote_status(
    call: PhoneCall,
    *,
    remote_status: str | None,
    duration=None,
    remote_response: dict | None = None,
    remote_direction: str | None = None,
) -> PhoneCall:
    """`phone_call_record_remote_status` for a call the caller has already locked (select_for_update) in its
    transaction, as the webhook has: one lock, no savepoint. The row lock makes the in-Python `lock_version`
    increment exact."""
    previous = call.status
    fields = {"lock_version", "updated_at"}
    if not call.is_terminal and remote_status:
        call.remote_status = remote_status
        fields.add("remote_status")
    if seconds(duration) > 0:
        call.duration = seconds(duration)
        fields.add("duration")
    if remote_response is not None:
        call.remote_response = remote_response
        fields.add("remote_response")
    if remote_direction and not call.remote_direction:
        call.remote_direction = remote_direction
        fields.add("remote_direction")
    if not call.is_terminal:
        call.complete(timezone.now())
        fields.add("status")
    call.lock_version += 1
    call.save(update_fields=sorted(fields))
    if call.status != previous:
        _after_status_change(call)
    return call


def _after_status_change(call: PhoneCall) -> None:
    if call.callout_participation_id is None:
        return
    if call.status == PhoneCallStatus.COMPLETED:
        CalloutParticipation.objects.filter(pk=call.callout_participation_id).update(
            answered=True, updated_at=timezone.now()
        )
    elif call.is_terminal:
        phone_call_retry_schedule(phone_call=call)


def retry_settings(account) -> tuple[set[str], int, int]:
    """(statuses that are retried, back-off seconds, max calls per participation) for an account (accounts/settings.py;
    junk in the settings hash reads as the default, so it never fails a status callback)."""
    s = AccountSettings.from_account(account)
    return set(s.retry_statuses), s.retry_backoff_seconds, s.max_phone_calls_for_callout_participation


def phone_call_retry_schedule(*, phone_call: PhoneCall) -> PhoneCall | None:
    """After a failed attempt, create the next `created` call of the participation, due after the back-off.

    Only while the participation is unanswered, has fewer calls than the account's maximum (never more than 10)
    and no other live call. The partial unique index on live calls per participation backs this up.
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


def phone_call_create_for_participation(*, participation: CalloutParticipation, **fields) -> PhoneCall:
    """A new `created` call for a participation (its counter goes up in the same transaction)."""
    callout = participation.callout
    call = PhoneCall.objects.create(
        account_id=callout.account_id,
        callout_id=callout.pk,
        callout_participation=participation,
        contact_id=participation.contact_id,
        msisdn=participation.msisdn,
        **{"call_flow_logic": participation.call_flow_logic, **fields},
    )
    CalloutParticipation.objects.filter(pk=participation.pk).update(phone_calls_count=F("phone_calls_count") + 1)
    return call
