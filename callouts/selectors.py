"""Reads of callouts and participations, always scoped to one account."""

from django.db.models import Q, QuerySet

from accounts.models import Account

from . import counters
from .models import Callout, CalloutParticipation

# v1 statistics name -> phone-call statuses counted under it
CALL_STATUS_COUNTS = {
    "calls_initialized": ("created",),
    "calls_scheduling": (),
    "calls_fetching_status": (),
    "calls_queued": ("queued",),
    "calls_remotely_queued": ("remotely_queued",),
    "calls_in_progress": ("in_progress",),
    "calls_waiting_for_completion": ("queued", "remotely_queued", "in_progress"),
    "calls_completed": ("completed",),
    "calls_errored": ("errored",),
    "calls_failed": ("failed",),
    "calls_busy": ("busy",),
    "calls_not_answered": ("not_answered",),
    "calls_canceled": ("canceled",),
    "calls_expired": ("expired",),
}


def callout_list(*, account: Account) -> QuerySet[Callout]:
    """The account's callouts."""
    return Callout.objects.filter(account=account)


def accounts_with_running_callouts() -> list[int]:
    """Ids of the accounts that have running callouts (the scheduler kicks a dispatcher for each); not scoped: the
    scheduler acts for every account."""
    return list(Callout.objects.filter(status=Callout.Status.RUNNING).values_list("account_id", flat=True).distinct())


def callout_participation_list(*, account: Account) -> QuerySet[CalloutParticipation]:
    """The participations in the account's callouts."""
    return CalloutParticipation.objects.filter(callout__account=account)


def batch_operation_participations(queryset: QuerySet[CalloutParticipation], operation) -> QuerySet:
    """The participations a batch operation produced: those a population added, or those a PhoneCallCreate
    operation created calls for."""
    from phone_calls.models import PhoneCall

    called = PhoneCall.objects.filter(create_batch_operation=operation).values("callout_participation_id")
    return queryset.filter(Q(callout_population=operation) | Q(pk__in=called))


def callout_statistics(*, callout: Callout) -> dict:
    """rest-api-v1's callout statistics plus answered / still to call / given up, from the callout's counters
    (callouts/counters.py: one query summing a few dozen rows, whatever the callout's size).

    A participation is given up when its `given_up_at` is recorded (callouts/outcomes.py); every other unanswered
    one is still to call. Values are ints; keys as rest-api-current documents them.
    """
    counts = counters.callout_counts(callout.pk)
    by_status = {status: counts[key] for status, key in counters.CALL_KEYS.items()}
    answered, given_up = counts[counters.ANSWERED], counts[counters.GIVEN_UP]
    still_to_call = counts[counters.PARTICIPATIONS] - answered - given_up
    calls = {
        name: sum(by_status.get(status, 0) for status in statuses) for name, statuses in CALL_STATUS_COUNTS.items()
    }
    return {
        "callout_status": callout.status,
        "callout_participations": counts[counters.PARTICIPATIONS],
        "callout_participations_remaining": still_to_call,
        "callout_participations_completed": answered + given_up,
        "callout_participations_answered": answered,
        "callout_participations_still_to_call": still_to_call,
        "callout_participations_given_up": given_up,
        "phone_calls": sum(by_status.values()),
        **calls,
    }
