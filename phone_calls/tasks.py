"""Celery wrappers of the dialling services: they take ids, re-check state in the service, and are safe to repeat.

`dispatch_account_calls` is kicked by callouts on start/resume (dispatch.account_dispatch_kick) and by
`scheduler_tick`, which celery beat runs every SCFM_SCHEDULER_INTERVAL seconds (scfm/celery.py). Every task has an
explicit name, so moving a function never renames a task already in a queue or a route in settings.CELERY_TASK_ROUTES.
"""

import logging

import requests
from celery import Task, shared_task
from django.conf import settings

from callouts import selectors as callout_selectors
from scfm.health import scheduler_tick_record

from . import dial_batches, dialling, dispatch, leases, polling, unrecorded
from .providers import simulator_outcomes
from .recordings import recording_audio_fetch

logger = logging.getLogger(__name__)

SCHEDULER_LEASE = "scheduler_tick"


class DispatchKickTask(Task):
    """At most one pending `dispatch_account_calls` per account, whoever kicks it (callouts, batch operations, the
    scheduler tick, a dispatch loop handing on): enqueueing does nothing while one is already pending, so kicks
    never pile up in the broker behind a backlog. The pending mark is cleared when the dispatch starts."""

    def apply_async(self, args=None, kwargs=None, **options):
        account_id = args[0] if args else (kwargs or {}).get("account_id")
        if account_id is not None and not dispatch.dispatch_pending_mark(account_id=account_id):
            logger.debug("dispatch of account %s already pending", account_id)
            return None
        return super().apply_async(args, kwargs, **options)


@shared_task(name="phone_calls.tasks.dispatch_account_calls", base=DispatchKickTask, acks_late=True, ignore_result=True)
def dispatch_account_calls(account_id: int) -> int:
    """Queue the account's due calls of running callouts, within its in-flight cap and calls-per-second pacing."""
    dispatch.dispatch_pending_clear(account_id=account_id)
    return dispatch.account_calls_dispatch(account_id=account_id)


@shared_task(name="phone_calls.tasks.queue_remote_call", acks_late=True, ignore_result=True)
def queue_remote_call(phone_call_id: int, check_callout: bool = True) -> None:
    """Dial one queued call (does nothing if it was already dialled: the dispatch stamp guards it)."""
    dialling.phone_call_queue_remote(phone_call_id=phone_call_id, check_callout=check_callout)


@shared_task(name="phone_calls.tasks.dial_batch", acks_late=True, ignore_result=True)
def dial_batch(phone_call_ids: list[int], check_callout: bool = True, send_at: list[float] | None = None) -> None:
    """Dial a batch of queued calls concurrently (dial_batches.py); `send_at`: each call's paced send slot (epoch
    seconds, in the order of `phone_call_ids`). Calls already stamped or dialled are skipped: the stamp guards them."""
    slots = dict(zip(phone_call_ids, send_at, strict=True)) if send_at else None
    dial_batches.phone_calls_dial_batch(phone_call_ids=phone_call_ids, check_callout=check_callout, send_at=slots)


@shared_task(name="phone_calls.tasks.fetch_remote_call", acks_late=True, ignore_result=True)
def fetch_remote_call(phone_call_id: int) -> None:
    """Refresh one call's status from its provider."""
    polling.phone_call_fetch_remote(phone_call_id=phone_call_id)


@shared_task(name="phone_calls.tasks.find_unrecorded_call", acks_late=True, ignore_result=True)
def find_unrecorded_call(phone_call_id: int) -> None:
    """Ask the provider whether a stamped call whose answer was lost was created; record it or put it back in line."""
    unrecorded.phone_call_find_unrecorded(phone_call_id=phone_call_id)


@shared_task(name="phone_calls.tasks.simulate_call_outcome", acks_late=True, ignore_result=True)
def simulate_call_outcome(phone_call_id: int) -> None:
    """The simulator provider's delayed status callback for one call."""
    simulator_outcomes.phone_call_simulate_outcome(phone_call_id=phone_call_id)


@shared_task(name="phone_calls.tasks.scheduler_tick", acks_late=True, ignore_result=True)
def scheduler_tick() -> None:
    """The periodic job: kick a dispatcher per account with running callouts, poll stale statuses, sweep calls
    stuck in `queued`. Holds a lease so two schedulers never tick at once."""
    interval = settings.SCFM_SCHEDULER_INTERVAL
    if not leases.lease_acquire(name=SCHEDULER_LEASE, seconds=max(interval * 0.9, 1.0)):
        logger.info("scheduler tick skipped: another scheduler holds the lease")
        return
    for account_id in callout_selectors.accounts_with_running_callouts():
        dispatch.account_dispatch_kick(account_id)
    fetched = polling.phone_calls_stale_fetch_enqueue()
    requeued, expired = polling.phone_calls_sweep_queued()
    looked_up = unrecorded.phone_calls_unrecorded_enqueue()
    if fetched or requeued or expired or looked_up:
        logger.info(
            "scheduler tick: %s stale fetches, %s lost calls re-sent, %s expired, %s unanswered calls looked up",
            fetched,
            requeued,
            expired,
            looked_up,
        )
    scheduler_tick_record()  # read by /health (scfm.health.SchedulerTick)


# -- recordings (the name keeps its old module, phone_calls.recording_tasks: queued tasks and the polling route) --
@shared_task(
    name="phone_calls.recording_tasks.recording_audio_fetch_task",
    acks_late=True,
    autoretry_for=(requests.RequestException,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def recording_audio_fetch_task(recording_id: int) -> None:
    """Fetch a recording's audio from the provider; a recording that already has it is left alone."""
    recording_audio_fetch(recording_id=recording_id)
