"""A participation's outcome, recorded as it happens: answered, or given up (and taken back up by a new call).

The dialling engine calls these in the transaction that changes a call (phone_calls/lifecycle.py, dialling.py,
polling.py, services.py, status_callbacks.py in SQL), and each keeps the counters (counters.py) in step.

- `participation_answered`: a call completed. Sets `answered` (once) and clears `given_up_at` (an expired call
  that completes after all).
- `participation_attempt_ended`: a call ended unanswered and no retry was scheduled. Records `given_up_at` when
  the participation is unanswered and has no live call left.
- `participation_called_again`: a new call was created for it (manual call, PhoneCallCreate): clears `given_up_at`.
"""

from django.db.models import Exists, OuterRef
from django.utils import timezone

from . import counters
from .models import CalloutParticipation


def participation_answered(*, participation_id: int, callout_id: int) -> bool:
    """Mark a participation answered; True when it was not already. Call inside the call's transaction."""
    now = timezone.now()
    was_given_up = CalloutParticipation.objects.filter(pk=participation_id, given_up_at__isnull=False).update(
        given_up_at=None
    )
    answered = CalloutParticipation.objects.filter(pk=participation_id, answered=False).update(
        answered=True, updated_at=now
    )
    counters.counts_add(callout_id, {counters.ANSWERED: answered, counters.GIVEN_UP: -was_given_up}, now=now)
    return bool(answered)


def participation_attempt_ended(*, participation_id: int, callout_id: int) -> bool:
    """Record that the participation has given up, unless it is answered, given up already or has a live call;
    True when it was recorded. Locks the participation row first, so a call created concurrently (which updates
    that row) is either seen as live or clears the mark after us."""
    from phone_calls.models import PhoneCall
    from phone_calls.statuses import ACTIVE_STATUSES

    now = timezone.now()
    state = (
        CalloutParticipation.objects.select_for_update()
        .filter(pk=participation_id)
        .values_list("answered", "given_up_at")
        .first()
    )
    if state is None or state != (False, None):
        return False
    live = PhoneCall.objects.filter(callout_participation_id=OuterRef("pk"), status__in=ACTIVE_STATUSES)
    given_up = (
        CalloutParticipation.objects.filter(pk=participation_id, answered=False, given_up_at__isnull=True)
        .filter(~Exists(live))
        .update(given_up_at=now, updated_at=now)
    )
    counters.counts_add(callout_id, {counters.GIVEN_UP: given_up}, now=now)
    return bool(given_up)


def participation_called_again(*, participation_id: int, callout_id: int) -> None:
    """A new call was created for the participation: it is no longer given up."""
    cleared = CalloutParticipation.objects.filter(pk=participation_id, given_up_at__isnull=False).update(
        given_up_at=None
    )
    counters.counts_add(callout_id, {counters.GIVEN_UP: -cleared})
