"""Polling and sweeping: fetch the status of calls the provider has gone quiet about, and settle calls stuck in
`queued` (a lost dial task is sent again; a call dialled an hour ago and never accepted expires).

The scheduler tick (tasks.scheduler_tick) runs `phone_calls_stale_fetch_enqueue` and `phone_calls_sweep_queued`;
the `fetch_remote_call` task runs `phone_call_fetch_remote` for one call.
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
from .dispatch import CLAIM_BATCH_SIZE
from .models import PhoneCall
from .providers.base import ProviderError
from .providers.registry import provider_for_account
from .statuses import PhoneCallStatus

logger = logging.getLogger(__name__)

LOST_QUEUED_AFTER = timedelta(minutes=5)
EXPIRE_QUEUED_AFTER = timedelta(hours=1)
STALE_STATUS_AFTER = timedelta(minutes=10)
REFETCH_AFTER = timedelta(minutes=15)
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


def phone_calls_stale_fetch_enqueue(*, now: datetime | None = None, limit: int = STALE_FETCH_BATCH_SIZE) -> int:
    """Queue a provider fetch for calls whose status has been unknown for 10 minutes (each at most every 15).
    Returns how many fetches were queued."""
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


def phone_calls_sweep_queued(*, now: datetime | None = None) -> tuple[int, int]:
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
                counters.call_moved(call.callout_id, PhoneCallStatus.QUEUED, call.status)
                if call.callout_participation_id and call.callout_id:
                    participation_attempt_ended(
                        participation_id=call.callout_participation_id, callout_id=call.callout_id
                    )
                expired += 1
    return len(lost), expired
