"""Polling and sweeping: fetch the status of calls the provider has gone quiet about, and settle calls stuck in
`queued` (a lost dial task is sent again; a call dialled an hour ago and never accepted expires).

The scheduler tick (tasks.scheduler_tick) runs `phone_calls_stale_fetch_enqueue` and `phone_calls_sweep_queued`;
the `fetch_remote_call` task runs `phone_call_fetch_remote` for one call. When a call counts as stale, and how often
it is fetched again, is the provider's (`Provider.stale_status_after` / `refetch_after`: 10 / 15 minutes for Twilio
and Somleng, 30 s for the simulator, whose fetch is a database read and answers an overdue outcome).
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from callouts import counters
from callouts.outcomes import participation_attempt_ended
from scfm.logging import phone_call_log_context

from . import lifecycle
from .dial_batches import DIAL_BATCH_SIZE
from .dispatch import CLAIM_BATCH_SIZE
from .models import PhoneCall
from .providers.base import ProviderError
from .providers.registry import PROVIDERS, accounts_on_provider, provider_for_call, real_calls, rehearsal_calls
from .providers.simulator import SimulatorProvider
from .statuses import PhoneCallStatus

logger = logging.getLogger(__name__)

# A claimed call whose dial task has not run for this long is sent its task again. Short, because a duplicate is
# harmless: the task stamps `dispatched_at` under the row lock before it asks the provider, so a second copy finds
# the stamp and does nothing (dialling.py), never a second dial. The sweep moves `updated_at` when it re-sends, so
# a call gets at most one extra task per LOST_QUEUED_AFTER however long a backlog lasts; queued calls are bounded
# by the accounts' in-flight caps, so neither can the extra tasks pile up. A message lost by the broker (a
# truncated file in laptop mode) then costs a minute, not five.
LOST_QUEUED_AFTER = timedelta(minutes=1)
EXPIRE_QUEUED_AFTER = timedelta(hours=1)
STALE_FETCH_BATCH_SIZE = 500


def phone_call_fetch_remote(*, phone_call_id: int) -> PhoneCall | None:
    """Refresh a remotely queued / in-progress call from its provider and apply the status (forward only).

    None when there is nothing to fetch (unknown call, not dialled, not waiting) or the fetch failed (logged; the
    poller tries again later).
    """
    with phone_call_log_context(phone_call_id):
        call = PhoneCall.objects.select_related("account").filter(pk=phone_call_id).first()
        if call is None:
            logger.info("fetching phone call %s skipped: the call no longer exists", phone_call_id)
            return None
        if not call.remote_call_id:
            return None
        if call.status not in (PhoneCallStatus.REMOTELY_QUEUED, PhoneCallStatus.IN_PROGRESS, PhoneCallStatus.EXPIRED):
            return None
        try:
            fetched = provider_for_call(call).fetch_call(call.remote_call_id)
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


def _stale(now: datetime) -> Q:
    """Calls due a fetch: accepted `stale_status_after` ago by their account's provider and not fetched within its
    `refetch_after` (calls of an account whose provider name is unknown cannot be fetched, so are never due)."""
    due = Q(pk__in=[])
    for provider in PROVIDERS.values():
        on_it = accounts_on_provider(provider.name, prefix="account__") & real_calls()
        if provider.name == SimulatorProvider.name:  # a rehearsal's calls are the simulator's, whatever the account's
            on_it |= rehearsal_calls()
        due |= (
            on_it
            & Q(remotely_queued_at__lte=now - provider.stale_status_after)
            & (
                Q(remote_status_fetch_queued_at__isnull=True)
                | Q(remote_status_fetch_queued_at__lte=now - provider.refetch_after)
            )
        )
    return due


def phone_calls_stale_fetch_enqueue(*, now: datetime | None = None, limit: int = STALE_FETCH_BATCH_SIZE) -> int:
    """Queue a provider fetch for calls whose status has been unknown for their provider's `stale_status_after`
    (Twilio, Somleng: 10 minutes, then at most every 15; the simulator: 30 s, then every 30 s).
    Returns how many fetches were queued."""
    from .tasks import fetch_remote_call

    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            PhoneCall.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status__in=(PhoneCallStatus.REMOTELY_QUEUED, PhoneCallStatus.IN_PROGRESS))
            .filter(_stale(now))
            .order_by("remotely_queued_at")
            .values_list("id", flat=True)[:limit]
        )
        PhoneCall.objects.filter(pk__in=ids).update(remote_status_fetch_queued_at=now)
        transaction.on_commit(lambda: [fetch_remote_call.delay(pk) for pk in ids])
    return len(ids)


def phone_calls_sweep_queued(*, now: datetime | None = None) -> tuple[int, int]:
    """Calls claimed but never dialled (a lost task) get their task again, at most once per LOST_QUEUED_AFTER; so do
    calls of a provider that dials nobody (the simulator) stamped that long ago whose answer was never recorded (the
    worker died in between: nobody was dialled). Calls of a real provider in that state may have been dialled: the
    provider is asked about them (unrecorded.py); dialled an hour ago and never accepted, they become `expired`.
    Returns (re-enqueued, expired)."""
    from .tasks import dial_batch

    now = now or timezone.now()
    lost = list(
        PhoneCall.objects.filter(
            status=PhoneCallStatus.QUEUED, dispatched_at__isnull=True, updated_at__lte=now - LOST_QUEUED_AFTER
        ).values_list("id", flat=True)[:CLAIM_BATCH_SIZE]
    )
    dials_nobody = rehearsal_calls()  # a rehearsal's calls go to the simulator
    for provider in PROVIDERS.values():
        if not provider.dials_for_real:
            dials_nobody |= accounts_on_provider(provider.name, prefix="account__")
    unrecorded = list(
        PhoneCall.objects.filter(
            dials_nobody,
            status=PhoneCallStatus.QUEUED,
            dispatched_at__lte=now - LOST_QUEUED_AFTER,
            remote_call_id__isnull=True,
        ).values_list("id", flat=True)[:CLAIM_BATCH_SIZE]
    )
    with transaction.atomic():
        # each UPDATE repeats its condition on the row itself, so a call dialled meanwhile is left alone (its task
        # sent again then finds it dialled and does nothing)
        PhoneCall.objects.filter(pk__in=lost, status=PhoneCallStatus.QUEUED, dispatched_at__isnull=True).update(
            updated_at=now
        )
        PhoneCall.objects.filter(
            pk__in=unrecorded,
            status=PhoneCallStatus.QUEUED,
            dispatched_at__lte=now - LOST_QUEUED_AFTER,
            remote_call_id__isnull=True,
        ).update(dispatched_at=None, updated_at=now)
        again = [*lost, *unrecorded]
        chunks = [again[i : i + DIAL_BATCH_SIZE] for i in range(0, len(again), DIAL_BATCH_SIZE)]
        transaction.on_commit(lambda: [dial_batch.delay(chunk) for chunk in chunks])
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
                counters.call_moved(call.callout_id, PhoneCallStatus.QUEUED, call.status)
                if call.callout_participation_id and call.callout_id:
                    participation_attempt_ended(
                        participation_id=call.callout_participation_id, callout_id=call.callout_id
                    )
                expired += 1
    return len(lost) + len(unrecorded), expired
