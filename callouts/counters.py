"""A callout's live numbers as counters: delta rows written with every change, squashed periodically.

Every write that changes what `GET /api/callouts/:id/callout_statistics` reports inserts `CalloutCount` rows in its
own transaction (RapidPro's squashed counts): never an UPDATE of a shared row, so concurrent writers (status
callbacks, the dispatcher, populations) do not queue on one lock. Reads SUM a callout's rows; the squash task
(`callout_counts_squash`, on the scheduler queue) replaces them by one row per key and minute, so a read sums a
few dozen rows plus whatever arrived since the last squash.

Keys (`TOTAL_KEYS`, rows with minute NULL):
- `participations`, `participations_answered`, `participations_given_up` (CalloutParticipation rows, `answered`,
  `given_up_at` set);
- `calls_<status>` for every PhoneCallStatus: the callout's calls in that status now.

The per-minute series (`SERIES_KEYS`, rows with minute = the change's minute, UTC, truncated) is derived from the
same deltas by `series_rows`: `dialled` (the provider answered a dial request: the call became remotely_queued or
errored), `answered` / `busy` / `not_answered` / `failed` / `errored` (calls that ended so in that minute) and the
changes of `participations_answered` / `participations_given_up` (cumulative values are total - later changes).

Writers: `counts_add` (a few rows, from Python) and `counts_add_for_calls` (one INSERT ... SELECT ... GROUP BY for a
set of calls that moved from one status to another). `callout_counts_recount` recomputes every total from the rows
(set-based) and is what the differential test compares against. Works on PostgreSQL and SQLite.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from phone_calls.statuses import PhoneCallStatus

from .models import Callout, CalloutCount, CalloutParticipation

PARTICIPATIONS = "participations"
ANSWERED = "participations_answered"
GIVEN_UP = "participations_given_up"
CALL_KEYS = {status: f"calls_{status}" for status in PhoneCallStatus.values}
TOTAL_KEYS = (PARTICIPATIONS, ANSWERED, GIVEN_UP, *CALL_KEYS.values())

# series key <- the total key whose increase it counts
DIALLED_FROM = (CALL_KEYS[PhoneCallStatus.REMOTELY_QUEUED], CALL_KEYS[PhoneCallStatus.ERRORED])
ENDED = {
    CALL_KEYS[PhoneCallStatus.COMPLETED]: "answered",
    CALL_KEYS[PhoneCallStatus.BUSY]: "busy",
    CALL_KEYS[PhoneCallStatus.NOT_ANSWERED]: "not_answered",
    CALL_KEYS[PhoneCallStatus.FAILED]: "failed",
    CALL_KEYS[PhoneCallStatus.ERRORED]: "errored",
}
SERIES_KEYS = ("dialled", "answered", "busy", "not_answered", "failed", "errored", ANSWERED, GIVEN_UP)
SQUASH_BATCH_SIZE = 500  # callouts per squash statement


def minute_of(moment: datetime) -> datetime:
    """The minute a change belongs to in the series (UTC, seconds dropped)."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def series_rows(key: str, delta: int) -> list[tuple[str, int]]:
    """The series changes (series key, delta) a change of total `key` by `delta` makes."""
    rows = []
    if delta > 0 and key in DIALLED_FROM:
        rows.append(("dialled", delta))
    if delta > 0 and key in ENDED:
        rows.append((ENDED[key], delta))
    if key in (ANSWERED, GIVEN_UP):
        rows.append((key, delta))
    return rows


def counts_add(callout_id: int | None, deltas: dict[str, int], *, now: datetime | None = None) -> None:
    """Add `deltas` (total key -> change) to a callout's counters, with their series rows; one INSERT, none when
    every delta is 0 or the call has no callout (inbound). Call it inside the transaction of the change."""
    if callout_id is None:
        return
    minute = minute_of(now or timezone.now())
    rows = []
    for key, delta in deltas.items():
        if delta:
            rows.append(CalloutCount(callout_id=callout_id, key=key, count=delta))
            series = series_rows(key, delta)
            rows += [CalloutCount(callout_id=callout_id, key=k, minute=minute, count=d) for k, d in series]
    if rows:
        CalloutCount.objects.bulk_create(rows)


def call_moved(callout_id: int | None, old: str | None, new: str | None, *, now: datetime | None = None) -> None:
    """One call of a callout moved from status `old` to `new` (None: created / deleted)."""
    if old == new:
        return
    deltas: dict[str, int] = defaultdict(int)
    if old:
        deltas[CALL_KEYS[old]] -= 1
    if new:
        deltas[CALL_KEYS[new]] += 1
    counts_add(callout_id, deltas, now=now)


def call_move_rows(old: str | None, new: str | None, now: datetime) -> list[tuple[str, datetime | None, int]]:
    """(key, minute, delta) rows of one call moving `old` -> `new`, minute NULL for totals; for the SQL fast path."""
    if old == new:
        return []
    minute = minute_of(now)
    rows: list[tuple[str, datetime | None, int]] = []
    for status, sign in ((old, -1), (new, 1)):
        if status:
            rows.append((CALL_KEYS[status], None, sign))
            rows += [(k, minute, d) for k, d in series_rows(CALL_KEYS[status], sign)]
    return rows


def counts_add_for_calls(calls: QuerySet, old: str | None, new: str | None, *, now: datetime | None = None) -> None:
    """The calls of `calls` (a PhoneCall queryset) moved from `old` to `new` (None: inserted / deleted): one
    INSERT ... SELECT ... GROUP BY callout_id adding their counts. Run it while the rows still match `calls`."""
    if old == new:
        return
    signs = {CALL_KEYS[status]: sign for status, sign in ((old, -1), (new, 1)) if status}
    counts_add_for(calls, signs, now=now)


def counts_add_for(rows: QuerySet, signs: dict[str, int], *, now: datetime | None = None) -> None:
    """Add `sign` x (the number of `rows` of each callout) to each key of `signs`, with the series rows: one
    INSERT ... SELECT ... GROUP BY callout_id. `rows` is a queryset of a model with a `callout_id` column
    (PhoneCall, CalloutParticipation); run it while the rows still match it."""
    minute = connection.ops.adapt_datetimefield_value(minute_of(now or timezone.now()))
    inner, inner_params = rows.filter(callout_id__isnull=False).values("callout_id").query.sql_with_params()
    table = CalloutCount._meta.db_table
    stamp = "CAST(%s AS timestamptz)" if connection.vendor == "postgresql" else "%s"
    selects, params = [], []
    for key, sign in signs.items():
        for series_key, at, factor in [(key, None, sign), *((k, minute, d) for k, d in series_rows(key, sign))]:
            selects.append(
                f"SELECT c.callout_id, %s, {stamp}, %s * COUNT(*), %s FROM (" + inner + ") AS c GROUP BY c.callout_id"
            )
            params += [series_key, at, factor, False, *inner_params]
    if not selects:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" (callout_id, key, minute, count, is_squashed) ' + " UNION ALL ".join(selects),
            params,
        )


# --- reads --------------------------------------------------------------------------------------------------------


def callout_counts(callout_id: int) -> dict[str, int]:
    """Every total key of a callout -> its value now (0 when it never changed). One query."""
    rows = (
        CalloutCount.objects.filter(callout_id=callout_id, minute__isnull=True)
        .order_by()
        .values_list("key")
        .annotate(total=Sum("count"))
    )
    counts = dict.fromkeys(TOTAL_KEYS, 0)
    counts.update({key: int(total) for key, total in rows})
    return counts


def totals_by_account(*, callout_statuses: Iterable[str]) -> dict[tuple[int, str], dict[str, int]]:
    """The totals of every callout in one of `callout_statuses`, summed per (account id, callout status): every
    TOTAL_KEYS key -> its value (0 when never changed). One grouped query over the callouts' counter rows (the
    metrics' scrape-time gauges: phone_calls/metrics.py), never a scan of calls or participations."""
    rows = (
        CalloutCount.objects.filter(minute__isnull=True, callout__status__in=list(callout_statuses))
        .order_by()
        .values_list("callout__account_id", "callout__status", "key")
        .annotate(total=Sum("count"))
    )
    totals: dict[tuple[int, str], dict[str, int]] = {}
    for account_id, status, key, total in rows:
        totals.setdefault((account_id, status), dict.fromkeys(TOTAL_KEYS, 0))[key] = int(total)
    return totals


def callout_series(callout_id: int, start: datetime, end: datetime) -> list[dict]:
    """The callout's per-minute series for every minute from `start` to `end` (inclusive, truncated to minutes,
    UTC), oldest first: `minute` plus the counts of SERIES_KEYS in that minute, except `participations_answered` /
    `participations_given_up`, which are the values at the end of the minute (the totals now minus every change
    after it). Two queries."""
    start, end = minute_of(start), minute_of(end)
    rows = (
        CalloutCount.objects.filter(callout_id=callout_id, minute__gte=start, minute__lte=end)
        .order_by()
        .values_list("minute", "key")
        .annotate(total=Sum("count"))
    )
    by_minute: dict[datetime, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SERIES_KEYS, 0))
    for minute, key, total in rows:
        by_minute[minute][key] += int(total)
    # the cumulative keys at `end`: totals (minute NULL) minus the changes after `end`
    running = dict.fromkeys((ANSWERED, GIVEN_UP), 0)
    for key, now_total, later in (
        CalloutCount.objects.filter(callout_id=callout_id, key__in=(ANSWERED, GIVEN_UP))
        .filter(Q(minute__isnull=True) | Q(minute__gt=end))
        .order_by()
        .values_list("key")
        .annotate(now_total=Sum("count", filter=Q(minute__isnull=True)), later=Sum("count", filter=Q(minute__gt=end)))
    ):
        running[key] = int(now_total or 0) - int(later or 0)
    series = []
    minute = end
    while minute >= start:
        point = by_minute.get(minute) or dict.fromkeys(SERIES_KEYS, 0)
        changes = {key: point[key] for key in (ANSWERED, GIVEN_UP)}
        series.append({"minute": minute, **point, **running})
        running = {key: running[key] - changes[key] for key in running}
        minute -= timedelta(minutes=1)
    series.reverse()
    return series


# --- squash, retention, recount -----------------------------------------------------------------------------------

SQUASH_SQL = """
WITH picked AS (
    SELECT DISTINCT callout_id FROM {table} WHERE NOT is_squashed LIMIT %s
), removed AS (
    DELETE FROM {table} WHERE callout_id IN (SELECT callout_id FROM picked)
    RETURNING callout_id, key, minute, count
)
INSERT INTO {table} (callout_id, key, minute, count, is_squashed)
SELECT callout_id, key, minute, SUM(count), TRUE FROM removed GROUP BY callout_id, key, minute
"""


def callout_counts_squash(*, batch_size: int = SQUASH_BATCH_SIZE) -> int:
    """Replace the rows of callouts with unsquashed changes by one row per (callout, key, minute); returns how many
    callouts were squashed. Safe with concurrent writers and squashers: each row is deleted once, and its count
    goes into the sum of the statement that deleted it (PostgreSQL: one DELETE ... RETURNING statement; SQLite,
    one writer at a time: the same in a transaction). Returns how many squashed rows were written."""
    table = CalloutCount._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(SQUASH_SQL.format(table=f'"{table}"'), [batch_size])
            return max(cursor.rowcount, 0)
    with transaction.atomic():
        ids = list(
            CalloutCount.objects.filter(is_squashed=False).values_list("callout_id", flat=True).distinct()[:batch_size]
        )
        rows = list(
            CalloutCount.objects.filter(callout_id__in=ids)
            .order_by()
            .values_list("callout_id", "key", "minute")
            .annotate(total=Sum("count"))
        )
        CalloutCount.objects.filter(callout_id__in=ids).delete()
        CalloutCount.objects.bulk_create(
            CalloutCount(callout_id=c, key=k, minute=m, count=t, is_squashed=True) for c, k, m, t in rows
        )
    return len(rows)


def callout_counts_unsquashed() -> bool:
    """Whether any callout has rows waiting to be squashed."""
    return CalloutCount.objects.filter(is_squashed=False).exists()


def series_retention_days() -> int:
    """How long per-minute series rows and remote phone call events are kept (settings.SCFM_SERIES_RETENTION_DAYS,
    default 90 days); 0 keeps them for ever."""
    return max(int(getattr(settings, "SCFM_SERIES_RETENTION_DAYS", 90)), 0)


def series_retention_apply(*, now: datetime | None = None, batch_size: int = 10_000) -> tuple[int, int]:
    """Delete series minutes and RemotePhoneCallEvents older than the retention period, at most `batch_size` of
    each per call; returns (series rows, events) deleted. Totals (minute NULL) are never deleted."""
    from phone_calls.models import RemotePhoneCallEvent

    days = series_retention_days()
    if not days:
        return 0, 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old_rows = CalloutCount.objects.filter(minute__lt=cutoff).values_list("pk", flat=True)[:batch_size]
    deleted_rows, _ = CalloutCount.objects.filter(pk__in=list(old_rows)).delete()
    old_events = RemotePhoneCallEvent.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch_size]
    deleted_events, _ = RemotePhoneCallEvent.objects.filter(pk__in=list(old_events)).delete()
    return deleted_rows, deleted_events


def counts_from_rows(callout_ids: Iterable[int] | None = None) -> dict[int, dict[str, int]]:
    """Every total recomputed from the participation and call rows (set-based: two grouped queries), per callout;
    `callout_ids` None: every callout."""
    from phone_calls.models import PhoneCall

    participations = CalloutParticipation.objects.order_by()
    calls = PhoneCall.objects.filter(callout_id__isnull=False).order_by()
    if callout_ids is not None:
        ids = list(callout_ids)
        participations, calls = participations.filter(callout_id__in=ids), calls.filter(callout_id__in=ids)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TOTAL_KEYS, 0))
    for callout_id, total, answered, given_up in participations.values_list("callout_id").annotate(
        n_total=Count("pk"),
        n_answered=Count("pk", filter=Q(answered=True)),
        n_given_up=Count("pk", filter=Q(given_up_at__isnull=False)),
    ):
        counts[callout_id].update({PARTICIPATIONS: total, ANSWERED: answered, GIVEN_UP: given_up})
    for callout_id, status, total in calls.values_list("callout_id", "status").annotate(total=Count("pk")):
        counts[callout_id][CALL_KEYS[status]] = total
    return dict(counts)


@transaction.atomic
def callout_counts_recount(*, callout_ids: Iterable[int] | None = None, lock: bool = True) -> int:
    """Recompute the totals from the rows and replace the callouts' total rows with them (series rows are kept:
    they are history, not derivable). Locks each callout's participations and calls against writes while it runs
    (SHARE lock on PostgreSQL: run it when the counters are suspect, not routinely; `lock=False` skips it, for rows
    nobody else writes, e.g. test fixtures). Returns callouts recounted."""
    from phone_calls.models import PhoneCall

    if lock and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (CalloutParticipation, PhoneCall, CalloutCount):
                cursor.execute(f'LOCK TABLE "{model._meta.db_table}" IN SHARE MODE')
    ids = list(callout_ids) if callout_ids is not None else list(Callout.objects.values_list("pk", flat=True))
    fresh = counts_from_rows(ids)
    CalloutCount.objects.filter(callout_id__in=ids, minute__isnull=True).delete()
    CalloutCount.objects.bulk_create(
        [
            CalloutCount(callout_id=callout_id, key=key, count=value, is_squashed=True)
            for callout_id, values in fresh.items()
            for key, value in values.items()
            if value
        ],
        batch_size=5000,
    )
    return len(ids)
