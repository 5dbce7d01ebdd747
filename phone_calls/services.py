"""The API's writes of phone calls: create, update, delete and the `queue` / `queue_remote_fetch` events.

The rest of the dialling engine lives in one module per stage, each named after it:

- dispatch.py — per-account pacing (token bucket), the in-flight cap, the claim (`phone_calls_claim`), the dispatch
  loop (`account_calls_dispatch`) and the one dispatch kick (`account_dispatch_kick`).
- dialling.py — the dispatch stamp, the provider's create request (`phone_call_queue_remote`), recording its result,
  our webhook URL and the calls.create parameters.
- polling.py — stale-status fetches (`phone_call_fetch_remote`, `phone_calls_stale_fetch_enqueue`) and sweeping lost
  and expired calls (`phone_calls_sweep_queued`).
- leases.py — `lease_acquire` / `lease_release` / `WORKER_ID` (one scheduler tick, one dispatch loop per account).
- lifecycle.py — applying a provider's status report (forward only); status_callbacks.py is its SQL fast path.
- retries.py — retries after busy / no answer / failed: the account's retry policy and the next attempt.
- statuses.py — the status enum, the status sets and the provider CallStatus table.
- remote_events.py, recordings.py — provider callbacks (webhooks) and recordings.
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

from .models import PhoneCall
from .selectors import due_phone_calls
from .statuses import PhoneCallStatus

PHONE_CALL_EVENTS = ("queue", "queue_remote_fetch")
INVALID_EVENT = DomainError({"event": ["is not included in the list"]})


def phone_call_create_for_participation(*, participation: CalloutParticipation, **fields) -> PhoneCall:
    """A new `created` call for a participation (its counter goes up in the same transaction); the API's create and
    retries.py use it. Raises IntegrityError while the participation has a live call (call it in a savepoint)."""
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
    counters.call_moved(callout.pk, None, call.status)
    participation_called_again(participation_id=participation.pk, callout_id=callout.pk)
    return call


def phone_call_create(
    *,
    participation: CalloutParticipation,
    remote_request_params: dict | None = None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
    call_flow_logic: str | None = None,
) -> PhoneCall:
    """A new `created` call for a participation; 422 while the participation has a live call."""
    fields: dict[str, Any] = {
        "remote_request_params": remote_request_params or {},
        "metadata": merge_metadata({}, metadata),
    }
    if call_flow_logic:
        fields["call_flow_logic"] = call_flow_logic
    try:
        with transaction.atomic():
            call = phone_call_create_for_participation(participation=participation, **fields)
    except IntegrityError:
        raise DomainError({"base": ["the callout participation already has a phone call in progress"]}) from None
    return call


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
    """`queue`: dial this call now (created only); `queue_remote_fetch`: refresh it from the provider."""
    if event not in PHONE_CALL_EVENTS:
        raise INVALID_EVENT
    from .tasks import fetch_remote_call, queue_remote_call

    with transaction.atomic():
        call = PhoneCall.objects.select_for_update().get(pk=phone_call.pk)
        if event == "queue":
            if call.status != PhoneCallStatus.CREATED:
                raise DomainError({"event": [f"cannot queue a phone call that is {call.status}"]})
            call.queue()
            call.save(update_fields=["status", "updated_at"])
            counters.call_moved(call.callout_id, PhoneCallStatus.CREATED, call.status)
            transaction.on_commit(lambda: queue_remote_call.delay(call.pk, check_callout=False))
        else:
            if not call.remote_call_id:
                raise DomainError({"event": ["cannot fetch a phone call that the provider has not accepted"]})
            call.remote_status_fetch_queued_at = timezone.now()
            call.save(update_fields=["remote_status_fetch_queued_at", "updated_at"])
            transaction.on_commit(lambda: fetch_remote_call.delay(call.pk))
    return call


def due_phone_calls_request_params_default(*, account_id: int, remote_request_params: dict, now=None) -> int:
    """Give the account's due calls that have no remote_request_params these ones (the enqueue_calls command's
    ENQUEUE_CALLS_TASK_DEFAULT_SOMLENG_REQUEST_PARAMS). Returns how many calls changed."""
    now = now or timezone.now()
    return (
        due_phone_calls(account_id=account_id, now=now)
        .filter(remote_request_params={})
        .update(remote_request_params=remote_request_params, updated_at=now)
    )
