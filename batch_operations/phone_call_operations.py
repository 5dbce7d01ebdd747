"""The legacy phone-call batch operations (original-behaviour.md 11.3, rest-api-v2.md "Batch Operations").

* BatchOperation::PhoneCallCreate: one `created` call (with the operation's remote_request_params) for each
  previewed participation that has no call waiting or in flight. Set-based: per chunk of participation ids one
  SELECT ... FOR UPDATE of the participations (a retry or a call made by hand locks the row too, so neither adds a
  second waiting call beside the batch's), one INSERT ... SELECT that repeats the "no call waiting or in flight"
  check and one UPDATE of phone_calls_count for the rows it added.
* BatchOperation::PhoneCallQueue: the previewed calls are each participation's next `created` call (the lowest id)
  whose participation has no call in flight, from the callouts the filters select — any status: without
  callout_filter_params[status]=running, calls of paused, stopped or new callouts are queued too (rest-api-v2).
  Calls of running callouts are tagged with the operation and made due now (any retry back-off cleared): the
  dispatcher dials them, so the dispatch stamp, the in-flight cap and the calls-per-second pacing apply, and pausing
  the callout still stops them. Calls of callouts that are not running, which the dispatcher never claims, are
  queued at once as the phone call's `queue` event does (phone_calls.services.phone_calls_queue).
* BatchOperation::PhoneCallQueueRemoteFetch: previewed calls the provider has accepted get a status fetch, as the
  phone call's `queue_remote_fetch` event does.

The previews are what a run would touch now: the account's rows (narrowed to the operation's callout if it has one)
matching callout_filter_params, callout_participation_filter_params and phone_call_filter_params, in id order, at
most `limit` of them (else min(max, max_per_period - calls already in the period)). Each run works through the
preview in id chunks, moving `cursor` and `processed_count` forward in the chunk's transaction, so a crashed run
resumes where it stopped; a fresh run (no cursor) counts from zero.
"""

import json
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from callouts import counters
from callouts.filters import CalloutFilter, CalloutParticipationFilter
from callouts.models import Callout, CalloutParticipation
from contacts.models import Contact
from phone_calls.dispatch import account_dispatch_kick
from phone_calls.filters import PhoneCallFilter
from phone_calls.models import PhoneCall
from phone_calls.remote_request_params import remote_request_params_errors
from phone_calls.selectors import in_flight_call_of_participation
from phone_calls.services import phone_calls_queue
from phone_calls.statuses import ACTIVE_STATUSES, PhoneCallStatus
from scfm.errors import DomainError
from scfm.query.filters import QueryError, apply_filters, csv_values

from .base import BatchOperationHandler
from .models import BatchOperation

CHUNK_SIZE = 500
DEFAULT_MAX_PER_PERIOD_HOURS = 24
PERIOD_TIMESTAMP_ATTRIBUTES = ("remotely_queued_at", "created_at", "updated_at")
COUNT_PARAMETERS = ("limit", "max", "max_per_period", "max_per_period_hours")
# the limit parameters (applied_limit) and the preview-presence switch: every phone-call type reads them
LIMIT_PARAMETERS = (*COUNT_PARAMETERS, "max_per_period_statuses", "max_per_period_timestamp_attribute")
OPTION_PARAMETERS = (*LIMIT_PARAMETERS, "skip_validate_preview_presence")
TRUE_VALUES = {"true", "1", "t", "yes"}
FETCHABLE_STATUSES = (PhoneCallStatus.REMOTELY_QUEUED, PhoneCallStatus.IN_PROGRESS, PhoneCallStatus.EXPIRED)
# the parameters holding another resource's q[...] filters, and the FilterSet that reads each
FILTER_PARAMS = {
    "callout_filter_params": CalloutFilter,
    "callout_participation_filter_params": CalloutParticipationFilter,
    "phone_call_filter_params": PhoneCallFilter,
}


def _count(parameters: dict, name: str) -> int | None:
    """A non-negative integer parameter (form bodies send "30"), or None when absent."""
    value = parameters.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise DomainError({name: ["must be a non-negative integer"]}) from None
    if number < 0:
        raise DomainError({name: ["must be a non-negative integer"]})
    return number


def _flag(parameters: dict, name: str) -> bool:
    value = parameters.get(name)
    return value is True or str(value).strip().lower() in TRUE_VALUES


def _given(parameters: dict, name: str) -> bool:
    """Whether parameters[name] holds filters: absent, null and `{}` filter nothing."""
    return parameters.get(name) not in (None, {})


def _filtered(parameters: dict, name: str, queryset: QuerySet) -> QuerySet:
    """`queryset` narrowed by the filters in parameters[name] (read by FILTER_PARAMS[name]); bad filters (anything
    but a hash, `""` included) are a 422 keyed under `name`, so a filter that can't be read never selects all."""
    filters = parameters.get(name)
    if filters is None:
        return queryset
    filterset_class = FILTER_PARAMS[name]
    try:
        return apply_filters(filterset_class, filters, queryset, error_key=None)
    except QueryError as exc:
        raise exc.under(name) from None


def _period_statuses(parameters: dict) -> list[str]:
    statuses = csv_values(parameters.get("max_per_period_statuses"))
    unknown = sorted(set(statuses) - set(PhoneCallStatus.values))
    if unknown:
        raise DomainError({"max_per_period_statuses": [f"contains unknown statuses: {', '.join(unknown)}"]})
    return statuses


def _period_attribute(parameters: dict) -> str:
    attribute = parameters.get("max_per_period_timestamp_attribute") or PERIOD_TIMESTAMP_ATTRIBUTES[0]
    if attribute not in PERIOD_TIMESTAMP_ATTRIBUTES:
        raise DomainError(
            {"max_per_period_timestamp_attribute": [f"must be one of: {', '.join(PERIOD_TIMESTAMP_ATTRIBUTES)}"]}
        )
    return attribute


def applied_limit(account_id: int, parameters: dict) -> int | None:
    """How many rows a run may touch: `limit`, else the smaller of `max` and what is left of `max_per_period`
    (the account's calls whose max_per_period_timestamp_attribute falls in the last max_per_period_hours, counting
    only max_per_period_statuses if given); None is no limit."""
    limit = _count(parameters, "limit")
    if limit is not None:
        return limit
    candidates = [_count(parameters, "max")]
    per_period = _count(parameters, "max_per_period")
    if per_period is not None:
        hours = _count(parameters, "max_per_period_hours") or DEFAULT_MAX_PER_PERIOD_HOURS
        since = timezone.now() - timedelta(hours=hours)
        in_period = PhoneCall.objects.filter(account_id=account_id, **{f"{_period_attribute(parameters)}__gte": since})
        statuses = _period_statuses(parameters)
        if statuses:
            in_period = in_period.filter(status__in=statuses)
        candidates.append(max(per_period - in_period.count(), 0))
    numbers = [number for number in candidates if number is not None]
    return min(numbers) if numbers else None


def _limited(rows: QuerySet, limit: int | None) -> QuerySet:
    """The first `limit` rows in id order, as a queryset that can still be sorted and paginated."""
    if limit is None:
        return rows
    return rows.model.objects.filter(pk__in=rows.order_by("pk").values("pk")[:limit])


def matching_participations(account_id: int, callout_id: int | None, parameters: dict) -> QuerySet:
    """The account's participations (of the callout, if given) matching the callout and participation filters."""
    participations = CalloutParticipation.objects.filter(callout__account_id=account_id)
    if callout_id:
        participations = participations.filter(callout_id=callout_id)
    participations = _filtered(parameters, "callout_participation_filter_params", participations)
    if _given(parameters, "callout_filter_params"):
        callouts = _filtered(parameters, "callout_filter_params", Callout.objects.filter(account_id=account_id))
        participations = participations.filter(callout_id__in=callouts.values("pk"))
    return participations


def matching_phone_calls(account_id: int, callout_id: int | None, parameters: dict) -> QuerySet:
    """The account's calls (of the callout, if given) matching the phone call, callout and participation filters."""
    calls = PhoneCall.objects.filter(account_id=account_id)
    if callout_id:
        calls = calls.filter(callout_id=callout_id)
    calls = _filtered(parameters, "phone_call_filter_params", calls)
    if _given(parameters, "callout_filter_params") or _given(parameters, "callout_participation_filter_params"):
        participations = matching_participations(account_id, callout_id, parameters)
        calls = calls.filter(callout_participation_id__in=participations.values("pk"))
    return calls


def batch_operation_phone_calls(*, batch_operation: BatchOperation) -> QuerySet[PhoneCall]:
    """The calls an operation created, queued or fetched (its /phone_calls results)."""
    calls = PhoneCall.objects.filter(account_id=batch_operation.account_id)
    return (
        calls.filter(create_batch_operation_id=batch_operation.pk)
        | calls.filter(queue_batch_operation_id=batch_operation.pk)
        | calls.filter(queue_remote_fetch_batch_operation_id=batch_operation.pk)
    )


class PhoneCallOperation(BatchOperationHandler):
    """What the three phone-call types share: parameter checks, the preview-presence rule, the chunked run."""

    preview_resource: str
    filter_params = FILTER_PARAMS
    option_params = OPTION_PARAMETERS

    def rows(self, account_id: int, callout_id: int | None, parameters: dict) -> QuerySet:
        """Every row the operation applies to, before the limit."""
        raise NotImplementedError

    def previewed(self, account_id: int, callout_id: int | None, parameters: dict) -> QuerySet:
        return _limited(self.rows(account_id, callout_id, parameters), applied_limit(account_id, parameters))

    def validate_parameters(self, *, account, callout, parameters: dict) -> None:
        for name in COUNT_PARAMETERS:
            _count(parameters, name)
        _period_attribute(parameters)
        _period_statuses(parameters)
        preview = self.previewed(account.pk, callout.pk if callout else None, parameters)
        if not _flag(parameters, "skip_validate_preview_presence") and not preview.exists():
            raise DomainError({f"{self.preview_resource}_preview": ["can't be blank"]})

    def preview(self, operation, resource: str) -> QuerySet:
        if resource != self.preview_resource:
            return super().preview(operation, resource)
        return self.previewed(operation.account_id, operation.callout_id, operation.parameters)

    def run(self, operation) -> None:
        BatchOperation.objects.filter(pk=operation.pk, cursor__isnull=True).update(processed_count=0)
        limit = applied_limit(operation.account_id, operation.parameters)
        while not self.run_next_chunk(operation.pk, limit):
            pass

    @transaction.atomic
    def run_next_chunk(self, operation_id: int, limit: int | None) -> bool:
        """Apply the operation to the next chunk of previewed rows after the cursor; True when it is done."""
        operation = BatchOperation.objects.select_for_update(of=("self",)).get(pk=operation_id)
        if operation.status != BatchOperation.Status.RUNNING:
            return True
        size = CHUNK_SIZE if limit is None else min(CHUNK_SIZE, limit - operation.processed_count)
        if size <= 0:
            return True
        rows = self.rows(operation.account_id, operation.callout_id, operation.parameters)
        ids = list(rows.filter(pk__gt=operation.cursor or 0).order_by("pk").values_list("pk", flat=True)[:size])
        if ids:
            operation.processed_count += self.apply(operation, rows.filter(pk__gte=ids[0], pk__lte=ids[-1]))
            operation.cursor = ids[-1]
            operation.save(update_fields=["cursor", "processed_count", "updated_at"])
        return len(ids) < size

    def apply(self, operation, rows: QuerySet) -> int:
        """Do the work for one chunk of rows; returns how many were affected."""
        raise NotImplementedError


def _phone_call_insert_sql(participations_sql: str) -> str:
    calls = PhoneCall._meta.db_table
    return (
        f'INSERT INTO "{calls}" (account_id, callout_id, callout_participation_id, contact_id, status, msisdn, '
        "call_flow_logic, metadata, remote_response, remote_queue_response, remote_request_params, duration, "
        "lock_version, create_batch_operation_id, created_at, updated_at) "
        "SELECT %s, p.callout_id, p.id, p.contact_id, %s, p.msisdn, p.call_flow_logic, '{}', '{}', '{}', %s, 0, 0, "
        f"%s, %s, %s FROM ({participations_sql}) AS p"
    )


class PhoneCallCreate(PhoneCallOperation):
    """Creates a call for each matching participation without a live call (rest-api-v2 "PhoneCallCreate")."""

    type = BatchOperation.Type.PHONE_CALL_CREATE
    settings_key = "batch_operation_phone_call_create_parameters"
    preview_resource = "callout_participations"
    # participations are chosen by callout and participation filters: no phone_call_filter_params
    filter_params = {
        name: FILTER_PARAMS[name] for name in ("callout_filter_params", "callout_participation_filter_params")
    }
    option_params = (*OPTION_PARAMETERS, "remote_request_params")

    def validate_parameters(self, *, account, callout, parameters: dict) -> None:
        params = parameters.get("remote_request_params")
        if not params:
            raise DomainError({"remote_request_params": ["can't be blank"]})
        errors = remote_request_params_errors(params)
        if errors:
            raise DomainError({"remote_request_params": errors})
        super().validate_parameters(account=account, callout=callout, parameters=parameters)

    def rows(self, account_id: int, callout_id: int | None, parameters: dict) -> QuerySet[CalloutParticipation]:
        live_call = PhoneCall.objects.filter(callout_participation=OuterRef("pk"), status__in=ACTIVE_STATUSES)
        return matching_participations(account_id, callout_id, parameters).filter(~Exists(live_call))

    def preview(self, operation, resource: str) -> QuerySet:
        if resource == "contacts":
            participations = super().preview(operation, self.preview_resource)
            return Contact.objects.filter(pk__in=participations.values("contact_id"))
        return super().preview(operation, resource)

    def apply(self, operation, rows: QuerySet) -> int:
        # lock the chunk's participations (in id order, so two batches never deadlock); the INSERT's SELECT then
        # repeats the "no call waiting or in flight" check with a fresh snapshot. Only the participations (`of`):
        # the filter joins the callout, and FOR UPDATE on its row deadlocks with the key-share locks that concurrent
        # inserts of the callout's participations and calls take (tests/callouts/test_counters.py found it)
        list(rows.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
        sql, params = rows.values("id", "callout_id", "contact_id", "msisdn", "call_flow_logic").query.sql_with_params()
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        request_params = json.dumps(operation.parameters.get("remote_request_params") or {})
        participations = CalloutParticipation._meta.db_table
        calls = PhoneCall._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                _phone_call_insert_sql(sql),
                [operation.account_id, PhoneCallStatus.CREATED, request_params, operation.pk, now, now, *params],
            )
            added = max(cursor.rowcount, 0)
            if added:
                # the rows this chunk added carry the operation's id and the chunk's timestamp
                cursor.execute(
                    f'UPDATE "{participations}" SET phone_calls_count = phone_calls_count + 1 WHERE id IN '
                    f'(SELECT callout_participation_id FROM "{calls}" WHERE create_batch_operation_id = %s '
                    "AND created_at = %s)",
                    [operation.pk, now],
                )
        if added:
            _count_created_calls(operation.pk, now)
        return added


def _count_created_calls(operation_id: int, created_at) -> None:
    """The callout counters of the calls a PhoneCallCreate chunk inserted; their participations, called again, are
    no longer given up."""
    added = PhoneCall.objects.filter(create_batch_operation_id=operation_id, created_at=created_at)
    counters.counts_add_for_calls(added, None, PhoneCallStatus.CREATED)
    given_up = CalloutParticipation.objects.filter(
        pk__in=added.values("callout_participation_id"), given_up_at__isnull=False
    )
    counters.counts_add_for(given_up, {counters.GIVEN_UP: -1})
    given_up.update(given_up_at=None)


class PhoneCallQueue(PhoneCallOperation):
    """Queues each matching participation's next `created` call (rest-api-v2 "PhoneCallQueue"): through the
    dispatcher for running callouts, at once for the others."""

    type = BatchOperation.Type.PHONE_CALL_QUEUE
    settings_key = "batch_operation_phone_call_queue_parameters"
    preview_resource = "phone_calls"

    def rows(self, account_id: int, callout_id: int | None, parameters: dict) -> QuerySet[PhoneCall]:
        earlier_waiting = PhoneCall.objects.filter(
            callout_participation_id=OuterRef("callout_participation_id"),
            status=PhoneCallStatus.CREATED,
            pk__lt=OuterRef("pk"),
        )
        return (
            matching_phone_calls(account_id, callout_id, parameters)
            .filter(status=PhoneCallStatus.CREATED)
            .filter(~in_flight_call_of_participation(), ~Exists(earlier_waiting))
        )

    def apply(self, operation, rows: QuerySet) -> int:
        running = Callout.objects.filter(account_id=operation.account_id, status=Callout.Status.RUNNING).values("pk")
        handed = rows.filter(callout_id__in=running).update(
            queue_batch_operation_id=operation.pk, queue_after=None, updated_at=timezone.now()
        )
        if handed:
            account_id = operation.account_id
            transaction.on_commit(lambda: account_dispatch_kick(account_id), robust=True)
        by_hand = list(
            rows.exclude(callout_id__in=running).select_for_update().order_by("pk").values_list("pk", flat=True)
        )
        queued = phone_calls_queue(phone_call_ids=by_hand, queue_batch_operation_id=operation.pk)
        return handed + len(queued)


class PhoneCallQueueRemoteFetch(PhoneCallOperation):
    """Fetches the status of matching calls from the provider (rest-api-v2 "PhoneCallQueueRemoteFetch")."""

    type = BatchOperation.Type.PHONE_CALL_QUEUE_REMOTE_FETCH
    settings_key = "batch_operation_phone_call_queue_remote_fetch_parameters"
    preview_resource = "phone_calls"

    def rows(self, account_id: int, callout_id: int | None, parameters: dict) -> QuerySet[PhoneCall]:
        return matching_phone_calls(account_id, callout_id, parameters).filter(
            status__in=FETCHABLE_STATUSES, remote_call_id__isnull=False
        )

    def apply(self, operation, rows: QuerySet) -> int:
        from phone_calls.tasks import fetch_remote_call

        ids = list(rows.values_list("pk", flat=True))
        now = timezone.now()
        PhoneCall.objects.filter(pk__in=ids).update(
            queue_remote_fetch_batch_operation_id=operation.pk, remote_status_fetch_queued_at=now, updated_at=now
        )
        transaction.on_commit(lambda: [fetch_remote_call.delay(pk) for pk in ids])
        return len(ids)
