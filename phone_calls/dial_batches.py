"""Dialling claimed calls in batches: one set-based dispatch stamp, the create requests sent concurrently over the
account's pooled keep-alive client, one set-based write of what the provider answered.

`phone_calls_dial_batch` (the `dial_batch` task, the paced dispatcher and, for one call, dialling.py) does three
steps, each its own transaction:

1. **Stamp** (`_stamp`): lock the batch's rows (by id order), put back in line the calls that must not be dialled
   now (claimed before the account's dialling paused, or their callout stopped running), stamp `dispatched_at` on
   the rest and commit *before* any request leaves: a redelivered or duplicated task finds the stamp and dials
   nobody twice.
2. **Send** (`_send_all`): up to DIAL_THREADS create requests at once over `providers.twilio.pooled_client`. Before
   each request a `_Gate` re-reads, at most every RECHECK_SECONDS, whether the callouts still run and the account is
   not paused, so pause and stop take effect within a second; the first account fault (providers/base.py) closes the
   gate for the rest of the batch. A call not sent goes back to `created` (no attempt used). With `send_at` (the
   paced dispatcher's slots, epoch seconds) each request waits for its slot.
3. **Record** (`answers_record`, dial_answers.py): lock the rows again and apply each answer (the rules of
   providers/base.py: accepted -> remotely_queued, rejected -> errored, account fault -> back in line and the
   account paused, retry -> back in line after RETRY_AFTER_SECONDS, unknown -> left for a callback or the sweep),
   one UPDATE for all, the callout counters per (old, new) status in one INSERT ... SELECT each
   (callouts/counters.py).

A worker killed between 1 and 3 leaves stamped calls with no answer recorded; polling.phone_calls_sweep_queued
asks the provider about them after UNRECORDED_AFTER (polling.py) and redials those it never received.
"""

import logging
import os
import threading
import time
from collections import defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Account
from callouts.counters import counts_add_for_calls
from callouts.models import Callout
from scfm.logging import phone_call_log_context

from . import metrics
from .dial_answers import NOT_SENT, BatchResult, answers_record
from .models import PhoneCall
from .providers.base import CreateOutcome, CreateResult, Provider
from .providers.registry import provider_for_call
from .providers.twilio import DIAL_POOL_SIZE
from .statuses import PhoneCallStatus

logger = logging.getLogger(__name__)

DIAL_BATCH_SIZE = 50  # calls per dial_batch task
DIAL_THREADS = DIAL_POOL_SIZE  # create requests in flight at once per process (one pooled connection each)
PACER_WINDOW_SECONDS = 1.005  # a second, and a little: the provider's clock may count the sends a few ms apart
# The first send after an idle pacer opens a new connection (TCP, TLS), so it reaches the provider later than the
# sends behind it on the warm connection: the first window is this much wider, so the provider's first second holds
# at most the rate (bench/dialer.py measured 51 at 50/s without it). Costs 0.05 s once per run of sends.
PACER_FIRST_WINDOW_MARGIN_SECONDS = 0.05
RECHECK_SECONDS = 0.5  # how stale the gate's view of pause / stop may get while a batch is sent
SEND_DEADLINE_SECONDS = 60.0  # no request starts this long after the stamp (the sweep relies on it: polling.py)


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


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _reset_executor() -> None:
    global _executor
    _executor = None


os.register_at_fork(after_in_child=_reset_executor)  # threads do not survive a fork


def executor() -> ThreadPoolExecutor:
    """The process's pool of DIAL_THREADS sender threads (created on first use, again after a fork)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=DIAL_THREADS, thread_name_prefix="scfm-dial")
        return _executor


def phone_calls_dial_batch(
    *, phone_call_ids: list[int], check_callout: bool = True, send_at: dict[int, float] | None = None
) -> BatchResult:
    """Stamp, dial and record `phone_call_ids` (any accounts); see the module docstring. `check_callout` False for
    calls queued by hand (the `queue` event, PhoneCallQueue batches), whose callout need not be running."""
    sending = SentBatch.start(phone_call_ids, check_callout=check_callout, send_at=send_at)
    return sending.finish()


@dataclass
class _Leg:
    """One account's part of a batch: its provider, whether it is the paused account's probe, its gate, its calls
    and their requests' futures (filled by `submitter` when the requests are handed over in the background)."""

    provider: Provider | None
    probe: bool
    gate: "_Gate | None"
    calls: list[PhoneCall]
    futures: list[Future]
    submitter: threading.Thread | None = None


class SentBatch:
    """A batch whose requests are on their way: `start` stamps the calls and hands their requests to the sender
    threads, each at its slot of `send_at`, held to `rate` by the account's `_Pacer` (with `background`, a thread
    of the batch's own waits for the slots, so the caller goes on at once); `finish` waits for the answers and
    records them. The paced dispatcher claims and
    starts the next batch while the last one's slots are still ahead, so nothing it does delays a slot."""

    def __init__(self, skipped: list[int], put_back: list[int]):
        self.skipped = skipped
        self.put_back = put_back
        self.legs: list[_Leg] = []

    @classmethod
    def start(
        cls,
        phone_call_ids: list[int],
        *,
        check_callout: bool = True,
        send_at: dict[int, float] | None = None,
        background: bool = False,
        rate: float = 0.0,
    ) -> "SentBatch":
        slots = send_at or {}
        stamped, put_back, skipped = _stamp(sorted(set(phone_call_ids)), check_callout)
        batch = cls(skipped, put_back)
        # one leg per account and adapter: a rehearsal's calls go to the simulator whatever the account's provider
        by_account: dict[tuple[int, bool], list[PhoneCall]] = defaultdict(list)
        for call in sorted(stamped, key=lambda call: slots.get(call.pk, 0.0)):
            by_account[(call.account_id, _is_rehearsal(call))].append(call)
        for calls in by_account.values():
            account = calls[0].account
            try:
                provider: Provider | None = provider_for_call(calls[0])
            except ValueError as error:  # an unknown provider name: the account's configuration
                probe = account.dialling_paused_at is not None
                fault = CreateResult(CreateOutcome.ACCOUNT_FAULT, error_message=str(error))
                batch.legs.append(_Leg(None, probe, None, calls, [_done(fault) for _ in calls]))
                continue
            # only the account's own provider taking a call ends a pause (a rehearsal's simulator proves nothing)
            probe = account.dialling_paused_at is not None and provider.dials_for_real
            leg = _Leg(provider, probe, _Gate(account, calls, check_callout), calls, [])
            pacer = _pacer(account.pk, rate) if rate else None
            if background:
                leg.submitter = threading.Thread(
                    target=_submit_all, args=(leg, slots, pacer), kwargs={"refresh": False}, name="scfm-dial-slots"
                )
                leg.submitter.start()
            else:
                _submit_all(leg, slots, pacer, refresh=True)
            batch.legs.append(leg)
        return batch

    def sent_all(self) -> bool:
        """Every request was answered (or kept back): `finish` will not wait."""
        return all(
            (leg.submitter is None or not leg.submitter.is_alive()) and all(f.done() for f in leg.futures)
            for leg in self.legs
        )

    def refresh(self) -> None:
        """Re-read pause and stop for the requests still to be sent (the caller's thread and connection)."""
        for leg in self.legs:
            if leg.gate is not None:
                leg.gate.refresh()

    def finish(self) -> BatchResult:
        result = BatchResult(sent=[], answered=[], put_back=list(self.put_back), skipped=list(self.skipped))
        for leg in self.legs:
            while leg.submitter is not None and leg.submitter.is_alive():
                leg.submitter.join(timeout=RECHECK_SECONDS)
                self.refresh()
            while wait(leg.futures, timeout=RECHECK_SECONDS).not_done:
                self.refresh()
            answers = [(call, future.result()) for call, future in zip(leg.calls, leg.futures, strict=True)]
            recorded = answers_record(answers, leg.provider, probe=leg.probe)
            result.sent += recorded.sent
            result.answered += recorded.answered
            result.put_back += recorded.put_back
        self.legs = []
        return result


def _done(result: CreateResult) -> Future:
    future: Future = Future()
    future.set_result(result)
    return future


@transaction.atomic
def _stamp(phone_call_ids: list[int], check_callout: bool) -> tuple[list[PhoneCall], list[int], list[int]]:
    """Lock the calls; put back those that must not be dialled now; stamp `dispatched_at` on the others. Returns
    (stamped calls, put back ids, skipped ids)."""
    calls = list(
        PhoneCall.objects.select_for_update(of=("self",))
        .select_related("account", "callout")
        .filter(pk__in=phone_call_ids)
        .order_by("pk")
    )
    found = {call.pk for call in calls}
    skipped = [pk for pk in phone_call_ids if pk not in found]
    for pk in skipped:
        logger.info("dialling phone call %s skipped: the call no longer exists", pk)
    ready = []
    for call in calls:
        if call.status != PhoneCallStatus.QUEUED or call.dispatched_at or call.remote_call_id:
            skipped.append(call.pk)
        else:
            ready.append(call)
    running = _running_callouts({call.callout_id for call in ready}) if check_callout else None
    now = timezone.now()
    back, stamped = [], []
    for call in ready:
        paused_at = call.account.dialling_paused_at
        if paused_at is not None and call.updated_at <= paused_at:  # claimed before the pause: not a probe
            back.append(call.pk)
        elif running is not None and call.callout_id and call.callout_id not in running:
            back.append(call.pk)
        else:
            call.dispatched_at = now
            stamped.append(call)
    _put_back(back, now=now)
    PhoneCall.objects.filter(pk__in=[call.pk for call in stamped]).update(dispatched_at=now, updated_at=now)
    for call in stamped:
        callout_since = running.get(call.callout_id) if running is not None and call.callout_id else None
        due_at = metrics.dispatch_due_at(
            created_at=call.created_at, queue_after=call.queue_after, callout_since=callout_since
        )
        metrics.dispatch_lag_observe((now - due_at).total_seconds())
    return stamped, back, skipped


def _is_rehearsal(call: PhoneCall) -> bool:
    return call.callout_id is not None and call.callout.is_rehearsal


def _running_callouts(callout_ids: set) -> dict[int, datetime]:
    """{callout id: when it last changed (its start or resume: its calls became due)} of the running ones."""
    return dict(
        Callout.objects.filter(pk__in=[pk for pk in callout_ids if pk], status=Callout.Status.RUNNING).values_list(
            "pk", "updated_at"
        )
    )


def _put_back(phone_call_ids: list[int], *, now, **fields) -> None:
    """The `requeue` transition (queued -> created, no attempt used) of calls locked by the caller, in one UPDATE,
    with their counters."""
    if not phone_call_ids:
        return
    moved = PhoneCall.objects.filter(pk__in=phone_call_ids, status=PhoneCallStatus.QUEUED)
    counts_add_for_calls(moved, PhoneCallStatus.QUEUED, PhoneCallStatus.CREATED)
    PhoneCall.objects.filter(pk__in=phone_call_ids, status=PhoneCallStatus.QUEUED).update(
        status=PhoneCallStatus.CREATED, updated_at=now, lock_version=F("lock_version") + 1, **fields
    )


class _Gate:
    """Whether the batch may still send: its callouts running, the account not paused since the stamp, no account
    fault seen, the send deadline not passed. The sender threads only read it; the batch's own thread re-reads the
    database (`refresh`) at most every RECHECK_SECONDS while it waits for them."""

    def __init__(self, account: Account, calls: list[PhoneCall], check_callout: bool):
        self.account_id = account.pk
        self.paused_at = account.dialling_paused_at
        self.callout_ids = {call.callout_id for call in calls if call.callout_id} if check_callout else set()
        self.running = frozenset(self.callout_ids)
        self.closed = False
        self.checked = time.monotonic()
        self.deadline = self.checked + SEND_DEADLINE_SECONDS

    def close(self) -> None:
        self.closed = True

    def refresh(self) -> None:
        """Re-read pause and stop (the batch's thread only: the reads use its database connection)."""
        if self.closed or time.monotonic() - self.checked < RECHECK_SECONDS:
            return
        self.checked = time.monotonic()
        paused_at = Account.objects.filter(pk=self.account_id).values_list("dialling_paused_at", flat=True).first()
        if paused_at is not None and paused_at != self.paused_at:
            self.closed = True  # another batch met an account fault: stop, the probe will resume
        if self.callout_ids:
            self.running = frozenset(_running_callouts(self.callout_ids))

    def allows(self, call: PhoneCall) -> bool:
        if time.monotonic() > self.deadline:
            self.closed = True
        return not self.closed and (not call.callout_id or not self.callout_ids or call.callout_id in self.running)


def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


class _Pacer:
    """One account's paced sends in this process, whatever their slots say: at least `min_gap` seconds apart, and
    never more than the rate's whole calls in any PACER_WINDOW_SECONDS. A batch whose slots were missed (a busy
    machine held a thread back) so catches up a little faster than the slots come, never in a burst, and neither
    the first second nor any other holds more than the rate. Each send, once its slot has come, reserves its moment
    under the lock (so in slot order), then waits for it."""

    def __init__(self, min_gap: float, per_window: int):
        self.min_gap = min_gap
        self.recent: deque[float] = deque(maxlen=per_window)  # the last sends' moments
        self.run_started_at: float | None = None  # the first send after the pacer was idle a window or more
        self.lock = threading.Lock()

    def reserve(self, now: float) -> float:
        with self.lock:
            at = max(now, self.recent[-1] + self.min_gap) if self.recent else now
            if not self.recent or at - self.recent[-1] >= PACER_WINDOW_SECONDS:
                self.run_started_at = at
            if len(self.recent) == self.recent.maxlen:
                window = PACER_WINDOW_SECONDS
                if self.recent[0] == self.run_started_at:
                    window += PACER_FIRST_WINDOW_MARGIN_SECONDS
                at = max(at, self.recent[0] + window)
            self.recent.append(at)
            return at


_pacers: dict[int, _Pacer] = {}
_pacers_lock = threading.Lock()
os.register_at_fork(after_in_child=_pacers.clear)


def _pacer(account_id: int, rate: float) -> _Pacer:
    """The account's pacer in this process, for `rate` calls per second (a new one when the rate changed)."""
    min_gap = 1 / (rate + 0.5) if rate >= 1 else 1 / rate  # slow rates: no catching up at all
    per_window = max(int(rate), 1)
    with _pacers_lock:
        pacer = _pacers.get(account_id)
        if pacer is None or pacer.min_gap != min_gap or pacer.recent.maxlen != per_window:
            pacer = _pacers[account_id] = _Pacer(min_gap, per_window)
        return pacer


def _submit_all(leg: _Leg, send_at: dict[int, float], pacer: _Pacer | None = None, *, refresh: bool) -> None:
    """Hand the leg's create requests to the process's sender threads, each at its `send_at` slot (if any),
    refreshing the gate while it waits when `refresh` (not from a thread of its own: the reads need the caller's
    connection). Unpaced, the first request goes alone and the rest follow its answer, so a provider refusing the
    account costs one refused request per batch, not DIAL_THREADS."""
    pool, gate = executor(), leg.gate
    assert leg.provider is not None and gate is not None
    for index, call in enumerate(leg.calls):
        slot = send_at.get(call.pk)
        while slot is not None and slot > time.time():
            time.sleep(min(slot - time.time(), RECHECK_SECONDS))
            if refresh:
                gate.refresh()
        if slot is not None and pacer is not None:  # at the slot: take the next free moment (in slot order)
            _sleep_until(pacer.reserve(time.time()))
        leg.futures.append(pool.submit(_send_one, leg.provider, call, gate))
        if index == 0 and slot is None and len(leg.calls) > 1:
            while wait(leg.futures, timeout=RECHECK_SECONDS).not_done:
                if refresh:
                    gate.refresh()


def _send_one(provider: Provider, call: PhoneCall, gate: _Gate) -> CreateResult:
    with phone_call_log_context(call.pk):  # a sender thread: the log lines it writes name the call
        if not gate.allows(call):
            return NOT_SENT
        result = provider.create_call(call, call_request_params(call))
        metrics.call_dialled(result)
        if result.outcome == CreateOutcome.ACCOUNT_FAULT:
            gate.close()
        return result
