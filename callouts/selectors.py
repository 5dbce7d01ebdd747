"""Reads of callouts and participations, always scoped to one account."""

from datetime import UTC, timedelta

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Account
from scfm.errors import DomainError

from . import counters
from .models import Callout, CalloutCount, CalloutEvent, CalloutParticipation

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


def callout_event_list(*, callout: Callout, limit: int = 20) -> list[CalloutEvent]:
    """The callout's latest start/pause/resume/stop events, newest first, with who did them (one query)."""
    return list(CalloutEvent.objects.filter(callout=callout).select_related("user", "account").order_by("-id")[:limit])


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


SERIES_MAX_MINUTES = 24 * 60  # one request covers at most a day of minutes
SERIES_DEFAULT_MINUTES = 60


def _series_time(value: str | None, name: str):
    if value in (None, ""):
        return None
    try:
        parsed = parse_datetime(value.strip().replace(" ", "T", 1))
        if parsed is None:
            raise ValueError(value)
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return counters.minute_of(parsed + timedelta(0))
    except (ValueError, OverflowError):
        raise DomainError({name: ["is not an ISO 8601 time"]}) from None


def callout_statistics_series(*, callout: Callout, start: str | None = None, end: str | None = None) -> dict:
    """The callout's progress per minute from `start` to `end` (ISO 8601; UTC when no offset; `end` defaults to
    now, `start` to an hour before `end`): `{"from", "to", "interval": "minute", "data": [...]}`, one point per
    minute of the range (every minute, in order), each with `minute` and the counts of that minute — `dialled`,
    `answered`, `busy`, `not_answered`, `failed`, `errored` (calls) — plus `participations_answered` /
    `participations_given_up` as totals at the end of the minute. Two queries. DomainError (422) when a time does
    not parse, `from` is after `to`, or the range covers more than SERIES_MAX_MINUTES minutes."""
    end_at = _series_time(end, "to") or counters.minute_of(timezone.now())
    try:
        start_at = _series_time(start, "from") or end_at - timedelta(minutes=SERIES_DEFAULT_MINUTES - 1)
    except OverflowError:
        raise DomainError({"to": ["is out of range"]}) from None
    if start_at > end_at:
        raise DomainError({"from": ["must be before to"]})
    if (end_at - start_at) >= timedelta(minutes=SERIES_MAX_MINUTES):
        raise DomainError({"to": [f"must be less than {SERIES_MAX_MINUTES} minutes after from"]})
    data = [
        {**point, "minute": point["minute"].isoformat().replace("+00:00", "Z")}
        for point in counters.callout_series(callout.pk, start_at, end_at)
    ]
    return {
        "from": start_at.isoformat().replace("+00:00", "Z"),
        "to": end_at.isoformat().replace("+00:00", "Z"),
        "interval": "minute",
        "data": data,
    }


PAGING_PARAMS = {"page", "per_page", "sort"}


def callout_phone_calls_total(*, callout_id: int, query_params) -> int | None:
    """The exact number of a callout's calls an API list would count, from the counters, when its only filter is
    `q[status]` (one or more comma-separated statuses) or none; None for any other filter (count the rows)."""
    extra = set(query_params) - PAGING_PARAMS
    if not extra <= {"q[status]"}:
        return None
    counts = counters.callout_counts(callout_id)
    if not extra:
        return sum(counts[key] for key in counters.CALL_KEYS.values())
    statuses = {part.strip() for part in query_params.get("q[status]", "").split(",") if part.strip()}
    if not statuses or not statuses <= set(counters.CALL_KEYS):
        return None
    return sum(counts[counters.CALL_KEYS[status]] for status in statuses)


def callout_participations_total(*, callout_id: int, query_params) -> int | None:
    """The exact number of a callout's participations an API list would count, from the counters, when it has no
    filter or only `q[answered]=true|false`; None for any other filter (count the rows)."""
    extra = set(query_params) - PAGING_PARAMS
    if not extra <= {"q[answered]"}:
        return None
    counts = counters.callout_counts(callout_id)
    if not extra:
        return counts[counters.PARTICIPATIONS]
    answered = query_params.get("q[answered]")
    if answered == "true":
        return counts[counters.ANSWERED]
    if answered == "false":
        return counts[counters.PARTICIPATIONS] - counts[counters.ANSWERED]
    return None


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
        # why the account's dialling is paused (phone_calls/dialling_pauses.py); null while it dials
        "dialling_paused_reason": callout.account.dialling_paused_reason,
    }


# --- the dashboard's live numbers (all from the counters: a few dozen rows per callout, whatever its size) ----------

IN_FLIGHT_STATUSES = ("queued", "remotely_queued", "in_progress")
SETTLE_RATE_MINUTES = 5


def callout_progress_many(*, callout_ids: list[int]) -> dict[int, dict[str, int]]:
    """Callout id -> {"participations", "answered", "given_up", "still_to_call"} for many callouts in one query
    (the callout list's progress column); callouts with no counter rows get zeros."""
    keys = {counters.PARTICIPATIONS: "participations", counters.ANSWERED: "answered", counters.GIVEN_UP: "given_up"}
    progress = {callout_id: dict.fromkeys([*keys.values(), "still_to_call"], 0) for callout_id in callout_ids}
    rows = (
        CalloutCount.objects.filter(callout_id__in=callout_ids, minute__isnull=True, key__in=list(keys))
        .order_by()
        .values_list("callout_id", "key")
        .annotate(total=Sum("count"))
    )
    for callout_id, key, total in rows:
        progress[callout_id][keys[key]] = int(total)
    for numbers in progress.values():
        numbers["still_to_call"] = numbers["participations"] - numbers["answered"] - numbers["given_up"]
    return progress


def account_calls_in_flight(*, account: Account) -> int:
    """The account's calls queued, remotely queued or in progress now, over all its callouts (what its
    phone_call_queue_limit caps), from the counters: one query."""
    keys = [counters.CALL_KEYS[status] for status in IN_FLIGHT_STATUSES]
    total = CalloutCount.objects.filter(callout__account=account, minute__isnull=True, key__in=keys).aggregate(
        total=Sum("count")
    )["total"]
    return int(total or 0)


def callout_settle_rate(*, callout: Callout, now=None) -> float:
    """Participations settled (answered or given up) per minute over the last SETTLE_RATE_MINUTES minutes (the
    current minute and the whole ones before it), from the per-minute series rows: the changes of
    `participations_answered` and `participations_given_up` in those minutes / SETTLE_RATE_MINUTES. One query."""
    end = counters.minute_of(now or timezone.now())
    settled = CalloutCount.objects.filter(
        callout_id=callout.pk,
        key__in=(counters.ANSWERED, counters.GIVEN_UP),
        minute__gt=end - timedelta(minutes=SETTLE_RATE_MINUTES),
        minute__lte=end,
    ).aggregate(total=Sum("count"))["total"]
    return max(int(settled or 0), 0) / SETTLE_RATE_MINUTES
