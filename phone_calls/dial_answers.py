"""Recording what the provider answered to a batch's create requests: one UPDATE of every call, the callout
counters per status move, the account's dialling pause (see dial_batches.py for the whole batch)."""

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from callouts.counters import counts_add_for_calls
from callouts.outcomes import participation_attempt_ended

from .dialling_pauses import account_dialling_pause, account_dialling_resume
from .models import PhoneCall
from .providers.base import CreateOutcome, CreateResult, Provider
from .statuses import PhoneCallStatus

RETRY_AFTER_SECONDS = 15
NOT_SENT = CreateResult(CreateOutcome.RETRY, error_message=None)  # marker: the call was kept back, never sent


@dataclass
class BatchResult:
    """What one batch did: calls whose request the provider answered (`sent`; `answered`: accepted or refused, so
    dialled), put back in line (not sent, or the provider asked for later), and skipped (gone, already stamped or
    dialled, so nobody is dialled twice)."""

    sent: list[int]
    answered: list[int]
    put_back: list[int]
    skipped: list[int]


# what answers_record may change on a call, besides updated_at and lock_version
WRITTEN_FIELDS = (
    "status",
    "remote_call_id",
    "remote_queue_response",
    "remote_error_message",
    "remote_direction",
    "remotely_queued_at",
    "remote_status",
    "dispatched_at",
    "queue_after",
)
# One statement for the whole batch on PostgreSQL: Django's bulk_update builds a CASE WHEN per row and field, and
# resolving those expressions cost ~14 ms of CPU per call for a batch of 50 (cProfile, bench/dialer.py's shape).
WRITE_SQL = """
UPDATE {table} AS c SET
    status = v.status, remote_call_id = v.remote_call_id, remote_queue_response = v.remote_queue_response::jsonb,
    remote_error_message = v.remote_error_message, remote_direction = v.remote_direction,
    remotely_queued_at = v.remotely_queued_at, remote_status = v.remote_status, dispatched_at = v.dispatched_at,
    queue_after = v.queue_after, updated_at = %s, lock_version = c.lock_version + 1
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::text[],
            %s::timestamptz[], %s::timestamptz[])
    AS v(id, status, remote_call_id, remote_queue_response, remote_error_message, remote_direction,
         remotely_queued_at, remote_status, dispatched_at, queue_after)
WHERE c.id = v.id
"""


def _write(calls: list[PhoneCall], fields: list[str], now) -> None:
    """Write the locked calls' new values (every WRITTEN_FIELDS column, as the rows hold them now or as the answer
    changed them), `updated_at` = now and `lock_version` + 1, in one UPDATE."""
    if connection.vendor != "postgresql":
        PhoneCall.objects.bulk_update(calls, fields)
        return
    columns: list[list] = [[call.pk for call in calls]]
    for name in WRITTEN_FIELDS:
        values = [getattr(call, name) for call in calls]
        if name == "remote_queue_response":
            values = [json.dumps(value) for value in values]
        columns.append(values)
    with connection.cursor() as cursor:
        cursor.execute(WRITE_SQL.format(table=PhoneCall._meta.db_table), [now, *columns])


@transaction.atomic
def answers_record(
    results: list[tuple[PhoneCall, CreateResult]], provider: Provider | None, *, probe: bool
) -> BatchResult:
    """Apply the provider's answers under the rows' locks: one UPDATE of every call, the counters per move."""
    answers = {call.pk: result for call, result in results}
    calls = list(PhoneCall.objects.select_for_update().filter(pk__in=list(answers)).order_by("pk"))
    now = timezone.now()
    fields = {"updated_at", "lock_version"}
    moves: dict[tuple[str, str], list[int]] = defaultdict(list)
    answered, back, ended, accepted, sent = [], [], [], [], []
    fault_reason = None
    for call in calls:
        result, previous = answers[call.pk], call.status
        call.updated_at = now
        call.lock_version = F("lock_version") + 1
        if result is not NOT_SENT:
            sent.append(call.pk)
        if result is NOT_SENT:
            if call.status == PhoneCallStatus.QUEUED:
                call.requeue()
                call.dispatched_at = None
                fields |= {"status", "dispatched_at"}
                back.append(call.pk)
        elif result.outcome in (CreateOutcome.ACCEPTED, CreateOutcome.REJECTED):
            call.remote_call_id = result.remote_call_id
            call.remote_queue_response = result.response
            call.remote_error_message = result.error_message
            call.remote_direction = call.remote_direction or result.remote_direction
            call.remotely_queued_at = now
            call.remote_status = call.remote_status or result.remote_status  # a callback may have told us more
            fields |= {"remote_call_id", "remote_queue_response", "remote_error_message", "remote_direction"}
            fields |= {"remotely_queued_at", "remote_status", "status"}
            if call.status == PhoneCallStatus.QUEUED:
                call.queue_remote()
            answered.append(call.pk)
            if result.outcome == CreateOutcome.ACCEPTED:
                accepted.append(call)
        elif result.outcome in (CreateOutcome.ACCOUNT_FAULT, CreateOutcome.RETRY):
            if call.status == PhoneCallStatus.QUEUED:  # back in line, no attempt used
                call.requeue()
                call.dispatched_at = None
                call.queue_after = (
                    None
                    if result.outcome == CreateOutcome.ACCOUNT_FAULT
                    else now + timedelta(seconds=RETRY_AFTER_SECONDS)
                )
                fields |= {"status", "dispatched_at", "queue_after"}
                back.append(call.pk)
            call.remote_error_message = result.error_message
            fields.add("remote_error_message")
            if result.outcome == CreateOutcome.ACCOUNT_FAULT:
                fault_reason = result.error_message or ""
        else:  # UNKNOWN: may have been dialled; a callback or the sweep settles it, never a blind second dial
            call.remote_error_message = result.error_message
            fields.add("remote_error_message")
        if call.status != previous:
            moves[(previous, call.status)].append(call.pk)
        if call.status == PhoneCallStatus.ERRORED and previous != call.status:
            ended.append(call)
    if calls:
        _write(calls, sorted(fields), now)
    for (old, new), ids in moves.items():
        counts_add_for_calls(PhoneCall.objects.filter(pk__in=ids), old, new, now=now)
    for call in ended:  # a refused dial ends the attempt (errored is not retried)
        if call.callout_participation_id and call.callout_id:
            participation_attempt_ended(participation_id=call.callout_participation_id, callout_id=call.callout_id)
    if calls and fault_reason is not None:
        account_dialling_pause(account_id=calls[0].account_id, reason=fault_reason, now=now)
    elif calls and probe and answered:  # the provider took the account's request: dialling may resume
        account_dialling_resume(account_id=calls[0].account_id)
    if accepted and provider is not None:
        transaction.on_commit(lambda: [provider.call_accepted(call) for call in accepted])
    return BatchResult(sent=sent, answered=answered, put_back=back, skipped=[])
