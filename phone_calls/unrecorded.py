"""Calls stamped for dialling whose provider answer was never recorded: find out whether the request arrived.

A worker killed mid-batch (dial_batches.py) leaves its calls `queued` with `dispatched_at` set and no answer: some
requests reached the provider, some never left. Dialling them again blindly could ring someone twice; leaving them
would skip them (until the hourly expiry, which does not retry). So once no live batch can still send them
(UNRECORDED_AFTER: the batch's send deadline plus the request timeout, with a margin), the scheduler tick queues a
`find_unrecorded_call` task per call (`phone_calls_unrecorded_enqueue`, at most once per UNRECORDED_AFTER each), and
`phone_call_find_unrecorded` asks the provider for the calls it created to that number since the stamp
(`Provider.calls_created_to`):

- one we do not know yet (no other PhoneCall has its SID): the request arrived; it is recorded as accepted, the
  call becomes `remotely_queued` and its status callbacks and polls follow as usual;
- none: the request never arrived; the call goes back in line (`created`, no attempt used) and is dialled again;
- the provider cannot tell (ProviderError, unknown provider): nothing changes; the next tick asks again, and the
  hourly expiry (polling.py) is the last resort.

Calls whose answer was `unknown` (5xx, read timeout, a connection dropped mid-request: providers/base.py) are looked
up the same way: the provider's list says whether the request arrived, which the error could not. Calls of a
provider that dials nobody (the simulator) are dialled again by polling.phone_calls_sweep_queued without asking.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scfm.logging import phone_call_log_context

from .dial_answers import NOT_SENT, answers_record
from .dial_batches import SEND_DEADLINE_SECONDS
from .models import PhoneCall
from .providers.base import HTTP_TIMEOUT_SECONDS, ProviderError
from .providers.registry import PROVIDERS, accounts_on_provider, provider_for_call, real_calls
from .statuses import PhoneCallStatus

logger = logging.getLogger(__name__)

UNRECORDED_AFTER = timedelta(seconds=SEND_DEADLINE_SECONDS + HTTP_TIMEOUT_SECONDS) + timedelta(minutes=1)
UNRECORDED_BATCH_SIZE = 500


def _unrecorded(now: datetime) -> Q:
    dials_for_real = Q(pk__in=[])
    for provider in PROVIDERS.values():
        if provider.dials_for_real:
            dials_for_real |= accounts_on_provider(provider.name, prefix="account__")
    # a rehearsal's calls went to the simulator, which dials nobody (polling.phone_calls_sweep_queued has them)
    return (
        dials_for_real
        & real_calls()
        & Q(
            status=PhoneCallStatus.QUEUED,
            dispatched_at__lte=now - UNRECORDED_AFTER,
            updated_at__lte=now - UNRECORDED_AFTER,
            remote_call_id__isnull=True,
        )
    )


def phone_calls_unrecorded_enqueue(*, now: datetime | None = None) -> int:
    """Queue a `find_unrecorded_call` for each call of a real provider stamped UNRECORDED_AFTER ago with no answer
    recorded (moving its `updated_at`, so each is looked up at most once per UNRECORDED_AFTER). Returns how many."""
    from .tasks import find_unrecorded_call

    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            PhoneCall.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(_unrecorded(now))
            .values_list("id", flat=True)[:UNRECORDED_BATCH_SIZE]
        )
        PhoneCall.objects.filter(pk__in=ids).update(updated_at=now)
        transaction.on_commit(lambda: [find_unrecorded_call.delay(pk) for pk in ids])
    return len(ids)


def phone_call_find_unrecorded(*, phone_call_id: int) -> str | None:
    """Ask the provider whether this stamped, unanswered call's request arrived, and record it or put the call back
    in line (see the module docstring). Returns "found", "put_back", or None when nothing changed."""
    with phone_call_log_context(phone_call_id):
        call = PhoneCall.objects.select_related("account").filter(pk=phone_call_id).first()
        if call is None:
            logger.info("looking up phone call %s skipped: the call no longer exists", phone_call_id)
            return None
        stamp = call.dispatched_at
        if call.status != PhoneCallStatus.QUEUED or stamp is None or call.remote_call_id:
            return None
        try:
            provider = provider_for_call(call)
            created = provider.calls_created_to(call.msisdn, stamp)
        except (ProviderError, ValueError) as error:
            logger.warning("looking up phone call %s at the provider failed: %s", call.pk, error)
            return None
        known = set(
            PhoneCall.objects.filter(remote_call_id__in=[result.remote_call_id for result in created]).values_list(
                "remote_call_id", flat=True
            )
        )
        found = next((result for result in created if result.remote_call_id not in known), None)
        with transaction.atomic():
            locked = (
                PhoneCall.objects.select_for_update()
                .filter(pk=call.pk, status=PhoneCallStatus.QUEUED, dispatched_at=stamp, remote_call_id__isnull=True)
                .first()
            )
            if locked is None:  # answered or moved meanwhile
                return None
            answers_record([(locked, found or NOT_SENT)], provider, probe=False)
        logger.info("phone call %s: its lost create request %s", call.pk, "arrived" if found else "never arrived")
        return "found" if found else "put_back"
