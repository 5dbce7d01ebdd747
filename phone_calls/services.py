"""The API's writes of phone calls: create, update, delete and the `queue` / `queue_remote_fetch` events.

The rest of the dialling engine lives in one module per stage, each named after it:

- dispatch.py — per-account pacing (send slots), the in-flight cap, the claim (`phone_calls_claim`), the dispatch
  loop (`account_calls_dispatch`) and the one dispatch kick (`account_dispatch_kick`).
- dial_batches.py — dialling in batches: the set-based dispatch stamp, concurrent create requests over the pooled
  client, recording the answers set-based; our webhook URL and the calls.create parameters.
- dialling.py — one call (`phone_call_queue_remote`): a batch of one.
- unrecorded.py — stamped calls whose answer was lost (a worker killed mid-batch): ask the provider.
- dialling_pauses.py — pausing an account's dialling while the provider refuses the account, and the probe that
  resumes it.
- polling.py — stale-status fetches (`phone_call_fetch_remote`, `phone_calls_stale_fetch_enqueue`) and sweeping lost
  and expired calls (`phone_calls_sweep_queued`).
- leases.py — `lease_acquire` / `lease_release` / `WORKER_ID` (one scheduler tick, one dispatch loop per account).
- lifecycle.py — applying a provider's status report (forward only); status_callbacks.py is its SQL fast path.
- retries.py — retries after busy / no answer / failed: the account's retry policy and the next attempt.
- statuses.py — the status enum, the status sets and the provider CallStatus table.
- remote_events.py, recordings.py — provider callbacks (webhooks) and recordings; callers.py — whether an inbound
  caller has a usable number (hidden, SIP and client callers have none).
- providers/ — the Twilio, Somleng and simulator adapters (the simulator's outcome: providers/simulator_outcomes.py).
- tasks.py — the Celery wrappers of all of the above; scheduler_tick is the periodic job.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from callouts import counters
from callouts.models import CalloutParticipation
from callouts.outcomes import participation_called_again
from scfm.errors import DomainError
from scfm.metadata import merge_metadata

from .dispatch import phone_calls_mark_queued
from .models import PhoneCall
from .selectors import due_phone_calls
from .statuses import IN_FLIGHT_STATUSES, PhoneCallStatus

PHONE_CALL_EVENTS = ("queue", "queue_remote_fetch")
INVALID_EVENT = DomainError({"event": ["is not included in the list"]})
IN_FLIGHT_MESSAGE = "cannot queue this phone call while another call of its callout participation is in flight"


def phone_call_create_for_participation(*, participation: CalloutParticipation, **fields) -> PhoneCall:
    """A new `created` call for a participation, its counter going up in the same transaction; the API's create and
    retries.py use it (call it inside a transaction).

    The counter's UPDATE comes first, so the participation's row is locked before the call exists: a retry or a
    PhoneCallCreate batch (which lock the row before they look for a waiting call) never adds one beside it.
    """
    callout = participation.callout
    CalloutParticipation.objects.filter(pk=participation.pk).update(phone_calls_count=F("phone_calls_count") + 1)
    call = PhoneCall.objects.create(
        account_id=callout.account_id,
        callout_id=callout.pk,
        callout_participation=participation,
        contact_id=participation.contact_id,
        msisdn=participation.msisdn,
        **{"call_flow_logic": participation.call_flow_logic, **fields},
    )
    counters.call_moved(callout.pk, None, call.status)
    participation_called_again(participation_id=participation.pk, callout_id=callout.pk)
    return call


@transaction.atomic
def phone_call_create(
    *,
    participation: CalloutParticipation,
    remote_request_params: dict | None = None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
    call_flow_logic: str | None = None,
) -> PhoneCall:
    """A new `created` call for a participation, made by hand: it may wait beside the participation's other calls
    (getting-started.md "Managing Phone Calls"); the dispatcher and the `queue` event dial one call of a
    participation at a time."""
    fields: dict[str, Any] = {
        "remote_request_params": remote_request_params or {},
        "metadata": merge_metadata({}, metadata),
    }
    if call_flow_logic:
        fields["call_flow_logic"] = call_flow_logic
    return phone_call_create_for_participation(participation=participation, **fields)


def phone_call_update(
    *,
    phone_call: PhoneCall,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
    remote_request_params: dict | None = None,
    call_flow_logic: str | None = None,
) -> PhoneCall:
    """Metadata always; remote_request_params and call_flow_logic only while the call is `created`."""
    with transaction.atomic():
        call = PhoneCall.objects.select_for_update().get(pk=phone_call.pk)
        fields = ["metadata", "updated_at"]
        if remote_request_params is not None or call_flow_logic:
            if call.status != PhoneCallStatus.CREATED:
                raise DomainError({"status": [f"must be created to change the call, it is {call.status}"]})
            if remote_request_params is not None:
                call.remote_request_params = remote_request_params
                fields.append("remote_request_params")
            if call_flow_logic:
                call.call_flow_logic = call_flow_logic
                fields.append("call_flow_logic")
        call.metadata = merge_metadata(call.metadata, metadata, metadata_merge_mode)
        call.save(update_fields=fields)
    return call


def phone_call_delete(*, phone_call: PhoneCall) -> None:
    """Delete a call that has not been queued yet."""
    with transaction.atomic():
        call = PhoneCall.objects.select_for_update().get(pk=phone_call.pk)
        if call.status != PhoneCallStatus.CREATED:
            raise DomainError({"base": [f"Cannot delete record because status is {call.status}"]})
        if call.callout_participation_id:
            CalloutParticipation.objects.filter(pk=call.callout_participation_id, phone_calls_count__gt=0).update(
                phone_calls_count=F("phone_calls_count") - 1
            )
        counters.call_moved(call.callout_id, call.status, None)
        call.delete()


def phone_call_fire_event(*, phone_call: PhoneCall, event: str) -> PhoneCall:
    """`queue`: dial this call now, whatever its callout's status (created only; 422 while another call of its
    participation is in flight); `queue_remote_fetch`: refresh it from the provider (accepted calls only)."""
    if event not in PHONE_CALL_EVENTS:
        raise INVALID_EVENT
    from .tasks import fetch_remote_call, queue_remote_call

    with transaction.atomic():
        call = PhoneCall.objects.select_for_update().get(pk=phone_call.pk)
        if event == "queue":
            if call.status != PhoneCallStatus.CREATED:
                raise DomainError({"event": [f"cannot queue a phone call that is {call.status}"]})
            _check_no_call_in_flight(call)
            call.queue()
            try:
                with transaction.atomic():
                    call.save(update_fields=["status", "updated_at"])
            except IntegrityError:  # another call of the participation went in flight since the check
                _check_no_call_in_flight(call)
                raise DomainError({"event": [IN_FLIGHT_MESSAGE]}) from None
            counters.call_moved(call.callout_id, PhoneCallStatus.CREATED, call.status)
            transaction.on_commit(lambda: queue_remote_call.delay(call.pk, check_callout=False))
        else:
            if not call.remote_call_id:
                raise DomainError({"event": ["cannot fetch a phone call that the provider has not accepted"]})
            call.remote_status_fetch_queued_at = timezone.now()
            call.save(update_fields=["remote_status_fetch_queued_at", "updated_at"])
            transaction.on_commit(lambda: fetch_remote_call.delay(call.pk))
    return call


def phone_calls_queue(*, phone_call_ids: list[int], **fields) -> list[int]:
    """The `queue` event for many `created` calls at once, whose rows the caller has locked (the PhoneCallQueue
    batch, for calls of callouts that are not running): move them to `queued`, setting `fields`, and dial each after
    commit, whatever its callout's status. A call whose participation has another call in flight stays `created`.
    Returns the ids queued."""
    from .tasks import queue_remote_call

    queued = phone_calls_mark_queued(phone_call_ids=phone_call_ids, now=timezone.now(), **fields)
    if queued:
        transaction.on_commit(lambda: [queue_remote_call.delay(pk, check_callout=False) for pk in queued])
    return queued


def _check_no_call_in_flight(call: PhoneCall) -> None:
    """422 when another call of the call's participation is queued, remotely queued or in progress: a participation
    is dialled once at a time (the partial unique index on in-flight calls)."""
    if call.callout_participation_id is None:
        return
    in_flight = (
        PhoneCall.objects.filter(callout_participation_id=call.callout_participation_id, status__in=IN_FLIGHT_STATUSES)
        .exclude(pk=call.pk)
        .values_list("pk", "status")
        .first()
    )
    if in_flight:
        raise DomainError(
            {
                "event": [
                    f"cannot queue this phone call while phone call {in_flight[0]} of its callout participation is "
                    f"{in_flight[1]}: a participation is dialled once at a time"
                ]
            }
        )


def due_phone_calls_request_params_default(*, account_id: int, remote_request_params: dict, now=None) -> int:
    """Give the account's due calls that have no remote_request_params these ones (the enqueue_calls command's
    ENQUEUE_CALLS_TASK_DEFAULT_SOMLENG_REQUEST_PARAMS). Returns how many calls changed."""
    now = now or timezone.now()
    return (
        due_phone_calls(account_id=account_id, now=now)
        .filter(remote_request_params={})
        .update(remote_request_params=remote_request_params, updated_at=now)
    )
