"""Reads of callouts and participations, always scoped to one account."""

from typing import cast

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import Account
from accounts.settings import AccountSettings

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
    """The account's callouts (with their account: the read serializer shows its dialling pause)."""
    return Callout.objects.filter(account=account).select_related("account")


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
    """rest-api-v1's callout statistics plus answered / still to call / given up, in two grouped queries.

    A participation has given up when it is unanswered, has used every attempt the account allows
    (max_phone_calls_for_callout_participation) and has no call still active; otherwise an unanswered one is still
    to be called.
    """
    from phone_calls.models import PhoneCall
    from phone_calls.statuses import ACTIVE_STATUSES

    max_calls = AccountSettings.from_account(callout.account).max_phone_calls_for_callout_participation
    active_call = Exists(PhoneCall.objects.filter(callout_participation=OuterRef("pk"), status__in=ACTIVE_STATUSES))
    given_up = cast(Q, Q(answered=False, phone_calls_count__gte=max_calls) & ~active_call)  # Q & Exists is a Q
    participations = CalloutParticipation.objects.filter(callout=callout).aggregate(
        total_count=Count("pk"),
        answered_count=Count("pk", filter=Q(answered=True)),
        given_up_count=Count("pk", filter=given_up),
    )
    still_to_call = participations["total_count"] - participations["answered_count"] - participations["given_up_count"]
    by_status = dict(PhoneCall.objects.filter(callout=callout).order_by().values_list("status").annotate(n=Count("pk")))
    calls = {
        name: sum(by_status.get(status, 0) for status in statuses) for name, statuses in CALL_STATUS_COUNTS.items()
    }
    return {
        "callout_status": callout.status,
        "callout_participations": participations["total_count"],
        "callout_participations_remaining": still_to_call,
        "callout_participations_completed": participations["answered_count"] + participations["given_up_count"],
        "callout_participations_answered": participations["answered_count"],
        "callout_participations_still_to_call": still_to_call,
        "callout_participations_given_up": participations["given_up_count"],
        "phone_calls": sum(by_status.values()),
        **calls,
        # why the account's dialling is paused (phone_calls/dialling_pauses.py); null while it dials
        "dialling_paused_reason": callout.account.dialling_paused_reason,
    }
