"""Writes of phone calls: the API's create/update/delete/events, the dispatcher, the poller and the sweeper.

The dispatcher works in two steps so that a call is never dialled twice:

1. `phone_calls_claim` (one short transaction per account, serialised by the account's DispatchState row lock)
   moves due `created` calls of running callouts to `queued`, within the in-flight cap and the token bucket, and
   enqueues one `queue_remote_call` task per call after commit.
2. `phone_call_queue_remote` stamps `dispatched_at` under the call's row lock and commits *before* calling the
   provider; a redelivered or duplicated task finds the stamp and does nothing.
"""

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Account
from accounts.settings import AccountSettings
from callouts.models import Callout, CalloutParticipation
from scfm.errors import DomainError
from scfm.logging import phone_call_log_context
from scfm.metadata import merge_metadata

from . import lifecycle
from .models import IN_FLIGHT_STATUSES, DispatchState, PhoneCall, PhoneCallStatus, SchedulerLease
from .providers.base import CreateOutcome, CreateResult, ProviderError
from .providers.registry import provider_for_account
from .remote_events import remote_phone_call_event_handle
from .selectors import due_phone_calls

logger = logging.getLogger(__name__)

CLAIM_BATCH_SIZE = 500
RETRY_AFTER_SECONDS = 15
LOST_QUEUED_AFTER = timedelta(minutes=5)
EXPIRE_QUEUED_AFTER = timedelta(hours=1)
STALE_STATUS_AFTER = timedelta(minutes=10)
REFETCH_AFTER = timedelta(minutes=15)
STALE_FETCH_BATCH_SIZE = 500
CAPACITY_POLL_SECONDS = 0.25
PHONE_CALL_EVENTS = ("queue", "queue_remote_fetch")
INVALID_EVENT = DomainError({"event": ["is not included in the list"]})
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


# -- API writes ---------------------------------------------------------------------------------------------------
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
            call = lifecycle.phone_call_create_for_participation(participation=participation, **fields)
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
            transaction.on_commit(lambda: queue_remote_call.delay(call.pk, check_callout=False))
        else:
            if not call.remote_call_id:
                raise DomainError({"event": ["cannot fetch a phone call that the provider has not accepted"]})
            call.remote_status_fetch_queued_at = timezone.now()
            call.save(update_fields=["remote_status_fetch_queued_at", "updated_at"])
            transaction.on_commit(lambda: fetch_remote_call.delay(call.pk))
    return call


# -- leases -------------------------------------------------------------------------------------------------------
def lease_acquire(*, name: str, seconds: float, owner: str = WORKER_ID) -> bool:
    """Take (or extend) the named lease unless someone else holds an unexpired one."""
    now = timezone.now()
    SchedulerLease.objects.bulk_create([SchedulerLease(name=name, expires_at=now)], ignore_conflicts=True)
    taken = SchedulerLease.objects.filter(Q(expires_at__lte=now) | Q(owner=owner), name=name).update(
        owner=owner, expires_at=now + timedelta(seconds=seconds)
    )
    return taken == 1


def lease_release(*, name: str, owner: str = WORKER_ID) -> None:
    SchedulerLease.objects.filter(name=name, owner=owner).update(expires_at=timezone.now())


def dispatch_pending_seconds() -> float:
    """How long a pending dispatch kick keeps others out: 3 scheduler intervals, at least 30 s (a kick whose message
    was lost blocks no longer than that)."""
    return max(3 * settings.SCFM_SCHEDULER_INTERVAL, 30.0)


def dispatch_pending_mark(*, account_id: int) -> bool:
    """Note that a dispatch of the account is about to be enqueued; False when one is already pending (enqueued and
    not yet started), so the caller enqueues nothing. A row of SchedulerLease, so it works on any database and
    broker (SQLite with the file-system broker too); the pending dispatch clears it when it starts."""
    name = f"dispatch-pending:{account_id}"
    return lease_acquire(name=name, seconds=dispatch_pending_seconds(), owner=uuid.uuid4().hex)


def dispatch_pending_clear(*, account_id: int) -> None:
    """The account's pending dispatch has started: the next kick may enqueue another."""
    SchedulerLease.objects.filter(name=f"dispatch-pending:{account_id}").update(expires_at=timezone.now())


# -- dispatching --------------------------------------------------------------------------------------------------
def max_calls_per_second(account: Account) -> float:
    """The account's pacing (settings.max_calls_per_second, default 10); 0 turns pacing off."""
    return AccountSettings.from_account(account).max_calls_per_second


def queue_limit(account: Account) -> int:
    """The account's in-flight cap (settings.phone_call_queue_limit, default 200)."""
    return AccountSettings.from_account(account).phone_call_queue_limit


@dataclass(frozen=True)
class ClaimResult:
    """What one claim pass did: the calls it queued, and why it stopped (`wait` seconds before trying again)."""

    phone_call_ids: list[int]
    more: bool  # due calls remain
    wait: float = 0.0


@transaction.atomic
def phone_calls_claim(*, account_id: int, batch_size: int = CLAIM_BATCH_SIZE) -> ClaimResult:
    """Move due `created` calls of the account's running callouts to `queued`, within the in-flight cap and the
    token bucket, and enqueue their `queue_remote_call` tasks after commit."""
    from .tasks import queue_remote_call

    account = Account.objects.get(pk=account_id)
    DispatchState.objects.bulk_create([DispatchState(account_id=account_id)], ignore_conflicts=True)
    state = DispatchState.objects.select_for_update().get(pk=account_id)
    now = timezone.now()
    capacity = (
        queue_limit(account) - PhoneCall.objects.filter(account_id=account_id, status__in=IN_FLIGHT_STATUSES).count()
    )
    wanted = min(capacity, batch_size)
    rate = max_calls_per_second(account)
    if rate:
        elapsed = (now - state.refilled_at).total_seconds() if state.refilled_at else 1.0
        state.tokens = min(max(rate, 1.0), state.tokens + max(elapsed, 0.0) * rate)
        state.refilled_at = now
        wanted = min(wanted, int(state.tokens))
    due = due_phone_calls(account_id=account_id, now=now)
    if wanted <= 0:
        state.save()
        if not due.exists():
            return ClaimResult([], more=False)
        token_wait = (1 - state.tokens) / rate if rate and state.tokens < 1 else 0.0
        return ClaimResult([], more=True, wait=max(token_wait, CAPACITY_POLL_SECONDS if capacity <= 0 else 0.0))
    ids = list(due.select_for_update(skip_locked=True).order_by("id").values_list("id", flat=True)[:wanted])
    if ids:
        # the `queue` transition (created -> queued), applied in bulk; the WHERE repeats its source state
        PhoneCall.objects.filter(pk__in=ids, status=PhoneCallStatus.CREATED).update(
            status=PhoneCallStatus.QUEUED, updated_at=now, lock_version=F("lock_version") + 1
        )
        transaction.on_commit(lambda: [queue_remote_call.delay(pk) for pk in ids])
    if rate:
        state.tokens -= len(ids)
    state.save()
    return ClaimResult(ids, more=len(ids) == wanted)


def account_calls_dispatch(*, account_id: int, hold_seconds: float | None = None) -> int:
    """Dispatch the account's due calls; returns how many were queued.

    One caller per account (whoever holds the `dispatch:<account>` lease) keeps going for up to `hold_seconds`
    (default SCFM_SCHEDULER_INTERVAL), waiting for tokens and in-flight capacity; any other caller (a kick on
    start/resume while a loop runs) makes a single pass, so a new callout's first call leaves at once.
    """
    hold = settings.SCFM_SCHEDULER_INTERVAL if hold_seconds is None else hold_seconds
    lease = f"dispatch:{account_id}"
    # one owner per loop: prefork children share WORKER_ID (imported before the fork), and a shared owner would let
    # every kick "hold" the lease, so loops would pile up and release each other's lease
    owner = f"{WORKER_ID}:{uuid.uuid4().hex}"
    holds = lease_acquire(name=lease, seconds=hold + 30, owner=owner)
    deadline = time.monotonic() + hold
    queued = 0
    try:
        while True:
            result = phone_calls_claim(account_id=account_id)
            queued += len(result.phone_call_ids)
            if not result.more or not holds or time.monotonic() >= deadline:
                break
            if result.wait:
                time.sleep(min(result.wait, max(deadline - time.monotonic(), 0)))
    finally:
        if holds:
            lease_release(name=lease, owner=owner)
    if holds and result.more:
        _continue_dispatching(account_id)
    return queued


def _continue_dispatching(account_id: int) -> None:
    """Hand the account's dispatching on to a fresh task when the hold ran out with calls still due, so paced
    dialling has no gap until the next scheduler tick (ticks arriving during a hold only make a single pass).
    Inline task execution (tests, task commands) stops here instead: the caller decides when to run again."""
    from scfm.celery import app

    from .tasks import dispatch_account_calls

    if not app.conf.task_always_eager:
        dispatch_account_calls.delay(account_id)


def webhook_url(phone_call: PhoneCall) -> str:
    """Our callback URL for a call (Url and StatusCallback); phone_call_id correlates before the SID is stored."""
    return f"{settings.SCFM_PUBLIC_URL}/twilio_webhooks/phone_call_events?{urlencode({'phone_call_id': phone_call.pk})}"


def call_request_params(phone_call: PhoneCall) -> dict:
    """Twilio calls.create params: the call's remote_request_params, To = msisdn, From / Url / StatusCallback
    defaulting to the account's from_phone_number and our webhook."""
    url = webhook_url(phone_call)
    params = {
        "from": phone_call.account.setting("from_phone_number"),
        "url": url,
        "status_callback": url,
        **(phone_call.remote_request_params or {}),
    }
    params["to"] = phone_call.msisdn
    return params


def _claim_for_dialling(phone_call_id: int, check_callout: bool) -> PhoneCall | None:
    """Stamp `dispatched_at` under the row lock; None when the call must not be dialled (again)."""
    with transaction.atomic():
        call = PhoneCall.objects.select_for_update().filter(pk=phone_call_id).first()
        if call is None or call.status != PhoneCallStatus.QUEUED or call.dispatched_at or call.remote_call_id:
            return None
        if check_callout and call.callout_id:
            running = Callout.objects.filter(pk=call.callout_id, status=Callout.Status.RUNNING).exists()
            if not running:
                call.requeue()
                call.save(update_fields=["status", "updated_at"])
                return None
        call.dispatched_at = timezone.now()
        call.save(update_fields=["dispatched_at", "updated_at"])
    return call


def phone_call_queue_remote(*, phone_call_id: int, check_callout: bool = True) -> PhoneCall | None:
    """Dial one `queued` call through the account's provider and record the outcome (see providers.base)."""
    with phone_call_log_context(phone_call_id):
        call = _claim_for_dialling(phone_call_id, check_callout)
        if call is None:
            return None
        account = call.account
        try:
            provider = provider_for_account(account)
        except ValueError as error:
            provider, result = None, CreateResult(CreateOutcome.REJECTED, error_message=str(error))
        else:
            result = provider.create_call(call, call_request_params(call))  # type: ignore[union-attr]
        return _record_create_result(call.pk, result, provider)


@transaction.atomic
def _record_create_result(phone_call_id: int, result: CreateResult, provider) -> PhoneCall:
    call = PhoneCall.objects.select_for_update().get(pk=phone_call_id)
    now = timezone.now()
    fields = ["updated_at", "lock_version"]
    call.lock_version = F("lock_version") + 1
    if result.outcome in (CreateOutcome.ACCEPTED, CreateOutcome.REJECTED):
        call.remote_call_id = result.remote_call_id
        call.remote_queue_response = result.response
        call.remote_error_message = result.error_message
        call.remote_direction = call.remote_direction or result.remote_direction
        call.remotely_queued_at = now
        fields += ["remote_call_id", "remote_queue_response", "remote_error_message", "remote_direction"]
        fields += ["remotely_queued_at"]
        if call.remote_status is None:  # a callback may already have told us more
            call.remote_status = result.remote_status
            fields.append("remote_status")
        if call.status == PhoneCallStatus.QUEUED:
            call.queue_remote()
            fields.append("status")
        if result.outcome == CreateOutcome.ACCEPTED and provider is not None:
            transaction.on_commit(lambda: provider.call_accepted(call))
    elif result.outcome == CreateOutcome.RETRY and call.status == PhoneCallStatus.QUEUED:
        call.requeue()
        call.dispatched_at = None
        call.queue_after = now + timedelta(seconds=RETRY_AFTER_SECONDS)
        call.remote_error_message = result.error_message
        fields += ["status", "dispatched_at", "queue_after", "remote_error_message"]
    else:  # UNKNOWN: may have been dialled; a callback or the expiry settles it, never a second dial
        call.remote_error_message = result.error_message
        fields.append("remote_error_message")
    call.save(update_fields=fields)
    call.refresh_from_db(fields=["lock_version"])
    return call


# -- polling, sweeping, simulating ---------------------------------------------------------------------------------
def phone_call_fetch_remote(*, phone_call_id: int) -> PhoneCall | None:
    """Refresh a remotely queued / in-progress call from its provider and apply the status (forward only)."""
    with phone_call_log_context(phone_call_id):
        call = PhoneCall.objects.select_related("account").filter(pk=phone_call_id).first()
        if call is None or not call.remote_call_id:
            return None
        if call.status not in (PhoneCallStatus.REMOTELY_QUEUED, PhoneCallStatus.IN_PROGRESS, PhoneCallStatus.EXPIRED):
            return None
        try:
            fetched = provider_for_account(call.account).fetch_call(call.remote_call_id)
        except (ProviderError, ValueError) as error:
            logger.warning("fetching phone call %s failed: %s", call.pk, error)
            return None
        return lifecycle.phone_call_record_remote_status(
            phone_call_id=call.pk,
            remote_status=fetched.remote_status,
            duration=fetched.duration,
            remote_response=fetched.response,
            remote_direction=fetched.remote_direction,
        )


def phone_calls_stale_fetch_enqueue(*, now=None, limit: int = STALE_FETCH_BATCH_SIZE) -> int:
    """Queue a provider fetch for calls whose status has been unknown for 10 minutes (each at most every 15)."""
    from .tasks import fetch_remote_call

    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            PhoneCall.objects.select_for_update(skip_locked=True)
            .filter(
                status__in=(PhoneCallStatus.REMOTELY_QUEUED, PhoneCallStatus.IN_PROGRESS),
                remotely_queued_at__lte=now - STALE_STATUS_AFTER,
            )
            .filter(
                Q(remote_status_fetch_queued_at__isnull=True)
                | Q(remote_status_fetch_queued_at__lte=now - REFETCH_AFTER)
            )
            .order_by("remotely_queued_at")
            .values_list("id", flat=True)[:limit]
        )
        PhoneCall.objects.filter(pk__in=ids).update(remote_status_fetch_queued_at=now)
        transaction.on_commit(lambda: [fetch_remote_call.delay(pk) for pk in ids])
    return len(ids)


def phone_calls_sweep_queued(*, now=None) -> tuple[int, int]:
    """Calls claimed but never dialled (a lost task) get their task again; calls dialled an hour ago that the
    provider never accepted become `expired`. Returns (re-enqueued, expired)."""
    from .tasks import queue_remote_call

    now = now or timezone.now()
    lost = list(
        PhoneCall.objects.filter(
            status=PhoneCallStatus.QUEUED, dispatched_at__isnull=True, updated_at__lte=now - LOST_QUEUED_AFTER
        ).values_list("id", flat=True)[:CLAIM_BATCH_SIZE]
    )
    for pk in lost:
        queue_remote_call.delay(pk)
    expired = 0
    stuck = PhoneCall.objects.filter(
        status=PhoneCallStatus.QUEUED, dispatched_at__lte=now - EXPIRE_QUEUED_AFTER
    ).values_list("id", flat=True)[:CLAIM_BATCH_SIZE]
    for pk in list(stuck):
        with transaction.atomic():
            call = PhoneCall.objects.select_for_update().get(pk=pk)
            if call.status == PhoneCallStatus.QUEUED:
                call.expire()
                call.save(update_fields=["status", "updated_at"])
                expired += 1
    return len(lost), expired


def accounts_with_running_callouts() -> list[int]:
    """Accounts that have running callouts (the scheduler kicks a dispatcher for each)."""
    return list(Callout.objects.filter(status=Callout.Status.RUNNING).values_list("account_id", flat=True).distinct())


def phone_call_simulate_outcome(*, phone_call_id: int) -> PhoneCall | None:
    """The simulator's status callback: draw an outcome from the account's mix and apply it like a webhook."""
    from .providers.simulator import choose_outcome

    with phone_call_log_context(phone_call_id):
        call = PhoneCall.objects.select_related("account").filter(pk=phone_call_id).first()
        if call is None or call.is_terminal or not call.remote_call_id:
            return None
        status, duration = choose_outcome(call.account)
        params = {
            "CallSid": call.remote_call_id,
            "AccountSid": "ACsimulator",
            "From": str(call.account.setting("from_phone_number")),
            "To": call.msisdn,
            "CallStatus": status,
            "CallDuration": str(duration),
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
            "CallbackSource": "call-progress-events",
            "SequenceNumber": "0",
        }
        remote_phone_call_event_handle(account=call.account, params=params, url=webhook_url(call))
        call.refresh_from_db()
        return call
