"""Dispatching: per-account pacing (a schedule of send slots), the in-flight cap, the claim and the dispatch loop.

The dispatcher works in two steps so that a call is never dialled twice:

1. `phone_calls_claim` (one short transaction per account, serialised by the account's DispatchState row lock)
   moves due `created` calls of running callouts to `queued`, within the in-flight cap and the pacing schedule,
   and enqueues one `dial_batch` task per DIAL_BATCH_SIZE calls after commit. It never claims a call of a
   participation that has a call in flight, nor two calls of one participation (the partial unique index on
   in-flight calls backs this up); the other call stays `created` until the first has settled.
   While the account's dialling is paused (dialling_pauses.py) it claims only the one probe call a minute.
2. `phone_calls_dial_batch` (dial_batches.py) stamps `dispatched_at` on the batch's rows and commits *before*
   calling the provider; a redelivered or duplicated task finds the stamp and does nothing.

Pacing (`max_calls_per_second` = r > 0) gives every claimed call a send slot, 1/r apart (plus PACING_MARGIN), from
`DispatchState.next_slot_at` on: the first second holds at most r calls, no second more than r + 1, and a claim
takes only the slots of the next PACED_HORIZON seconds. The loop holding the account's lease dials its paced calls
itself, each at its slot (no broker hop to make them late); any other claimer's dial tasks carry the slots.

`account_calls_dispatch` runs claims in a loop for one account under the `dispatch:<account>` lease;
`account_dispatch_kick` is the one way to ask for that (callouts on start/resume, batch operations, the scheduler);
at most one kick per account is pending in the broker at a time (`dispatch_pending_mark`).
"""

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Account
from accounts.settings import AccountSettings
from callouts.counters import counts_add_for_calls

from .dial_batches import DIAL_BATCH_SIZE, RECHECK_SECONDS, SentBatch
from .dialling_pauses import account_dialling_probe_take
from .leases import WORKER_ID, lease_acquire, lease_release
from .models import DispatchState, PhoneCall, SchedulerLease
from .selectors import due_phone_calls
from .statuses import IN_FLIGHT_STATUSES, PhoneCallStatus

logger = logging.getLogger(__name__)

CLAIM_BATCH_SIZE = 500
CAPACITY_POLL_SECONDS = 0.25
PACED_HORIZON = timedelta(seconds=0.5)  # a paced claim takes the slots that start within this
PACED_LEAD = timedelta(seconds=0.05)  # a fresh schedule starts this late: the stamp commits before the first slot
# Slots are 1/r apart plus this fraction: a create request's latency varies by milliseconds, and at exactly 1/r the
# (r+1)-th call of the first second would land inside it whenever it travels faster than the first (issue 13's
# "first second at most the rate"). 1 % of the rate is well within the ±5 % asked of every 10-second window.
PACING_MARGIN = 0.01


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
    send_at: dict[int, float] = field(default_factory=dict)  # paced: each call's send slot (epoch seconds)
    rate: float = 0.0  # paced: the account's calls per second (the sender's pacer holds every send to it)


@transaction.atomic
def phone_calls_claim(*, account_id: int, batch_size: int = CLAIM_BATCH_SIZE, inline: bool = False) -> ClaimResult:
    """Move due `created` calls of the account's running callouts to `queued`, within the in-flight cap and the
    pacing schedule, and enqueue their `dial_batch` tasks after commit. `inline`: the caller dials paced calls
    itself at their slots (`send_at`), so none are enqueued for them."""
    from .tasks import dial_batch

    account = Account.objects.filter(pk=account_id).first()
    if account is None:  # deleted since the kick: nothing to dial
        return ClaimResult([], more=False)
    if account.dialling_paused_at is not None:  # the provider refuses the account: one probe a minute, no more
        if not account_dialling_probe_take(account_id=account_id):
            return ClaimResult([], more=False)
        batch_size = 1
    DispatchState.objects.bulk_create([DispatchState(account_id=account_id)], ignore_conflicts=True)
    state = DispatchState.objects.select_for_update().get(pk=account_id)
    now = timezone.now()
    capacity = (
        queue_limit(account) - PhoneCall.objects.filter(account_id=account_id, status__in=IN_FLIGHT_STATUSES).count()
    )
    wanted = min(capacity, batch_size)
    rate = max_calls_per_second(account)
    interval = timedelta(seconds=(1 + PACING_MARGIN) / rate) if rate else timedelta(0)
    first_slot = now + PACED_LEAD
    if rate:
        # a slot missed by at most one interval is kept (so a second holds at most r + 1 calls); after a longer
        # gap the schedule starts anew from now, never catching up in a burst
        if state.next_slot_at is not None and state.next_slot_at >= now - interval:
            first_slot = state.next_slot_at
        horizon = now + PACED_HORIZON
        free = -(-(horizon - first_slot) // interval) if first_slot < horizon else 0  # slots before the horizon
        wanted = min(wanted, free)
    due = due_phone_calls(account_id=account_id, now=now)
    if wanted <= 0:
        if not due.exists():
            return ClaimResult([], more=False)
        slot_wait = (first_slot - now - PACED_HORIZON).total_seconds() if rate else 0.0
        return ClaimResult([], more=True, wait=max(slot_wait, CAPACITY_POLL_SECONDS if capacity <= 0 else 0.0, 0.001))
    # one call per participation: a second `created` call of it waits for the first to settle (see due_phone_calls)
    rows = list(
        due.select_for_update(skip_locked=True).order_by("id").values_list("id", "callout_participation_id")[:wanted]
    )
    firsts: dict[object, int] = {}
    for pk, participation_id in rows:
        firsts.setdefault(participation_id or ("call", pk), pk)
    ids = phone_calls_mark_queued(phone_call_ids=list(firsts.values()), now=now)
    send_at = {pk: (first_slot + index * interval).timestamp() for index, pk in enumerate(ids)} if rate else {}
    if rate:
        state.next_slot_at = first_slot + len(ids) * interval
        state.save(update_fields=["next_slot_at"])
    if ids and not (inline and rate):
        chunks = [ids[i : i + DIAL_BATCH_SIZE] for i in range(0, len(ids), DIAL_BATCH_SIZE)]
        transaction.on_commit(
            lambda: [
                dial_batch.delay(chunk, send_at=[send_at[pk] for pk in chunk] if rate else None) for chunk in chunks
            ]
        )
    return ClaimResult(ids, more=len(rows) == wanted, send_at=send_at if inline else {}, rate=rate)


def phone_calls_mark_queued(*, phone_call_ids: list[int], now, **fields) -> list[int]:
    """The `queue` transition (created -> queued) of calls whose rows the caller has locked while `created`, in one
    UPDATE (its WHERE repeats the source state) that also sets `fields`; returns the ids it moved. The one place
    calls move to `queued` in bulk (the claim here, the PhoneCallQueue batch through services.phone_calls_queue).

    A call whose participation got another call in flight meanwhile (a `queue` event or a batch committed after the
    caller's read: the partial unique index refuses it) stays `created`; then each call is tried on its own.
    """
    if not phone_call_ids:
        return []
    moved = {**fields, "status": PhoneCallStatus.QUEUED, "updated_at": now, "lock_version": F("lock_version") + 1}
    try:
        with transaction.atomic():
            PhoneCall.objects.filter(pk__in=phone_call_ids, status=PhoneCallStatus.CREATED).update(**moved)
        queued = list(phone_call_ids)
    except IntegrityError:
        queued = []
        for pk in phone_call_ids:
            try:
                with transaction.atomic():
                    if PhoneCall.objects.filter(pk=pk, status=PhoneCallStatus.CREATED).update(**moved):
                        queued.append(pk)
            except IntegrityError:
                continue
    # the callout counters (callouts/counters.py): one INSERT ... SELECT ... GROUP BY callout
    counts_add_for_calls(PhoneCall.objects.filter(pk__in=queued), PhoneCallStatus.CREATED, PhoneCallStatus.QUEUED)
    return queued


def account_calls_dispatch(*, account_id: int, hold_seconds: float | None = None) -> int:
    """Dispatch the account's due calls; returns how many were queued.

    One caller per account (whoever holds the `dispatch:<account>` lease) keeps going for up to `hold_seconds`
    (default SCFM_SCHEDULER_INTERVAL), waiting for tokens and in-flight capacity; any other caller (a kick on
    start/resume while a loop runs) makes a single pass, so a new callout's first call leaves at once.
    """
    if not Account.objects.filter(pk=account_id).exists():
        logger.info("dispatch of account %s skipped: the account no longer exists", account_id)
        return 0
    hold = settings.SCFM_SCHEDULER_INTERVAL if hold_seconds is None else hold_seconds
    lease = f"dispatch:{account_id}"
    # one owner per loop: prefork children share WORKER_ID (imported before the fork), and a shared owner would let
    # every kick "hold" the lease, so loops would pile up and release each other's lease
    owner = f"{WORKER_ID}:{uuid.uuid4().hex}"
    holds = lease_acquire(name=lease, seconds=hold + 30, owner=owner)
    deadline = time.monotonic() + hold
    queued = 0
    sending: list[SentBatch] = []  # paced batches this loop started, their answers not all recorded yet
    try:
        while True:
            result = phone_calls_claim(account_id=account_id, inline=holds)
            if result.send_at:  # paced: this loop dials them, each at its slot (a thread of the batch waits)
                batch = SentBatch.start(
                    result.phone_call_ids, send_at=result.send_at, background=True, rate=result.rate
                )
                sending.append(batch)
            for batch in [batch for batch in sending if batch.sent_all()]:
                batch.finish()
                sending.remove(batch)
            for batch in sending:
                batch.refresh()
            queued += len(result.phone_call_ids)
            if not result.more or not holds or time.monotonic() >= deadline:
                break
            if result.wait:
                time.sleep(min(result.wait, RECHECK_SECONDS, max(deadline - time.monotonic(), 0)))
        if holds:  # hand on before recording the last answers, so the next loop's first slot follows the last one
            lease_release(name=lease, owner=owner)
            holds = False
            if result.more:
                _continue_dispatching(account_id)
    finally:
        if holds:
            lease_release(name=lease, owner=owner)
        for batch in sending:
            batch.finish()
    return queued


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


def account_dispatch_kick(account_id: int) -> None:
    """Ask for the account's due calls to be dispatched now: one `dispatch_account_calls` task (callouts on start
    and resume, batch operations that queue calls, the scheduler tick), unless one is already pending (the task's
    DispatchKickTask base checks `dispatch_pending_mark`). Call it after commit."""
    from .tasks import dispatch_account_calls

    dispatch_account_calls.delay(account_id)


def _continue_dispatching(account_id: int) -> None:
    """Hand the account's dispatching on to a fresh task when the hold ran out with calls still due, so paced
    dialling has no gap until the next scheduler tick (ticks arriving during a hold only make a single pass).
    Inline task execution (tests, task commands) stops here instead: the caller decides when to run again."""
    from scfm.celery import app

    if not app.conf.task_always_eager:
        account_dispatch_kick(account_id)
