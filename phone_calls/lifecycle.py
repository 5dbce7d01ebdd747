"""The phone-call lifecycle shared by the dialler, the webhooks, status polling and the simulator.

Every status report from a provider goes through `phone_call_record_remote_status` (or, for a caller that holds the
row lock already, `phone_call_apply_remote_status`), which locks the row, moves the call forward only (late or
duplicated callbacks are harmless), marks the participation answered on `completed` and schedules the retry of a
call that ended busy / not answered / failed (the retry policy: retries.py).

The webhook's fast path for status callbacks (status_callbacks.py) applies the same rule in SQL; a report that may
schedule a retry always takes this path. tests/phone_calls/test_status_report_paths.py checks the two agree.
"""

from django.db import transaction
from django.utils import timezone

from callouts import counters
from callouts.outcomes import participation_answered, participation_attempt_ended

from .models import PhoneCall
from .retries import phone_call_retry_schedule
from .statuses import PhoneCallStatus

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
        counters.call_moved(call.callout_id, previous, call.status)
        _after_status_change(call)
    return call


def _after_status_change(call: PhoneCall) -> None:
    """Completed: the participation is answered. Ended otherwise (or expired): a retry, or it has given up."""
    if call.callout_participation_id is None or call.callout_id is None:
        return
    if call.status == PhoneCallStatus.COMPLETED:
        participation_answered(participation_id=call.callout_participation_id, callout_id=call.callout_id)
    elif call.is_terminal or call.status == PhoneCallStatus.EXPIRED:
        if call.status == PhoneCallStatus.EXPIRED or phone_call_retry_schedule(phone_call=call) is None:
            participation_attempt_ended(participation_id=call.callout_participation_id, callout_id=call.callout_id)
