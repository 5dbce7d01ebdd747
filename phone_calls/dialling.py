"""Dialling one claimed call: the dispatch stamp, the provider's create request, and recording what came of it.

`phone_call_queue_remote` (run by the `queue_remote_call` task for each call dispatch.py claimed) stamps
`dispatched_at` under the call's row lock and commits *before* asking the provider, so a redelivered or duplicated
task finds the stamp and never dials twice. The provider's answer (providers/base.py: accepted, rejected, retry,
unknown, account_fault) is then recorded under the row lock again.

While the account's dialling is paused (dialling_pauses.py), a call claimed before the pause began goes back to
`created` undialled; the probe (claimed after it) is dialled, and its answer ends or keeps the pause.
"""

import logging
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from callouts import counters
from callouts.models import Callout
from callouts.outcomes import participation_attempt_ended
from scfm.logging import phone_call_log_context

from .dialling_pauses import account_dialling_pause, account_dialling_resume
from .models import PhoneCall
from .providers.base import CreateOutcome, CreateResult, Provider
from .providers.registry import provider_for_call
from .statuses import PhoneCallStatus

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 15


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
        if call is None:
            logger.info("dialling phone call %s skipped: the call no longer exists", phone_call_id)
            return None
        if call.status != PhoneCallStatus.QUEUED or call.dispatched_at or call.remote_call_id:
            return None
        paused_at = call.account.dialling_paused_at
        if paused_at is not None and call.updated_at <= paused_at:  # claimed before the pause: not a probe
            call.requeue()
            call.save(update_fields=["status", "updated_at"])
            counters.call_moved(call.callout_id, PhoneCallStatus.QUEUED, call.status)
            return None
        if check_callout and call.callout_id:
            running = Callout.objects.filter(pk=call.callout_id, status=Callout.Status.RUNNING).exists()
            if not running:
                call.requeue()
                call.save(update_fields=["status", "updated_at"])
                counters.call_moved(call.callout_id, PhoneCallStatus.QUEUED, call.status)
                return None
        call.dispatched_at = timezone.now()
        call.save(update_fields=["dispatched_at", "updated_at"])
    return call


def phone_call_queue_remote(*, phone_call_id: int, check_callout: bool = True) -> PhoneCall | None:
    """Dial one `queued` call through the account's provider and record the outcome (see providers.base).

    None when the call must not be dialled: gone, not `queued`, already stamped or dialled, or (`check_callout`)
    its callout is no longer running, in which case it goes back to `created`.
    """
    with phone_call_log_context(phone_call_id):
        call = _claim_for_dialling(phone_call_id, check_callout)
        if call is None:
            return None
        account = call.account
        try:
            provider = provider_for_call(call)
        except ValueError as error:  # an unknown provider name: the account's configuration
            provider, result = None, CreateResult(CreateOutcome.ACCOUNT_FAULT, error_message=str(error))
        else:
            result = provider.create_call(call, call_request_params(call))  # type: ignore[union-attr]
        # only the account's own provider taking a call ends a pause (a rehearsal's simulator proves nothing)
        probe = account.dialling_paused_at is not None and (provider is None or provider.dials_for_real)
        return _record_create_result(call.pk, result, provider, probe=probe)


@transaction.atomic
def _record_create_result(
    phone_call_id: int, result: CreateResult, provider: Provider | None, *, probe: bool = False
) -> PhoneCall:
    """Apply the provider's answer to the call (and to the account's dialling pause: `probe` when the account was
    paused as the call was dialled)."""
    call = PhoneCall.objects.select_for_update().get(pk=phone_call_id)
    previous = call.status
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
        if probe:  # the provider took the account's request: dialling may resume
            account_dialling_resume(account_id=call.account_id)
    elif result.outcome == CreateOutcome.ACCOUNT_FAULT:
        if call.status == PhoneCallStatus.QUEUED:  # back in line, no attempt used: the same call is dialled later
            call.requeue()
            call.dispatched_at = None
            call.queue_after = None
            fields += ["status", "dispatched_at", "queue_after"]
        call.remote_error_message = result.error_message
        fields.append("remote_error_message")
        account_dialling_pause(account_id=call.account_id, reason=result.error_message or "", now=now)
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
    _count_status_change(call, previous)
    return call


def _count_status_change(call: PhoneCall, previous: str) -> None:
    """Keep the callout's counters in step; a refused dial ends the attempt (errored is not retried)."""
    counters.call_moved(call.callout_id, previous, call.status)
    if call.status == PhoneCallStatus.ERRORED and call.callout_participation_id and call.callout_id:
        participation_attempt_ended(participation_id=call.callout_participation_id, callout_id=call.callout_id)
