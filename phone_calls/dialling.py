"""Dialling one claimed call: the dispatch stamp, the provider's create request, and recording what came of it.

`phone_call_queue_remote` (run by the `queue_remote_call` task: calls queued by hand, the sweep's lost calls, old
messages) is a batch of one for dial_batches.py, which does the work for every path: it stamps `dispatched_at` under
the call's row lock and commits *before* asking the provider, so a redelivered or duplicated task finds the stamp
and never dials twice. The provider's answer (providers/base.py: accepted, rejected, retry, unknown, account_fault)
is then recorded under the row lock again.

While the account's dialling is paused (dialling_pauses.py), a call claimed before the pause began goes back to
`created` undialled; the probe (claimed after it) is dialled, and its answer ends or keeps the pause.
"""

from scfm.logging import phone_call_log_context

from .dial_answers import RETRY_AFTER_SECONDS, answers_record
from .dial_batches import call_request_params, phone_calls_dial_batch, webhook_url
from .models import PhoneCall
from .providers.base import CreateResult, Provider

__all__ = ["RETRY_AFTER_SECONDS", "call_request_params", "phone_call_queue_remote", "webhook_url"]


def phone_call_queue_remote(*, phone_call_id: int, check_callout: bool = True) -> PhoneCall | None:
    """Dial one `queued` call through the account's provider and record the outcome (see providers.base).

    None when the call must not be dialled: gone, not `queued`, already stamped or dialled, or (`check_callout`)
    its callout is no longer running, in which case it goes back to `created`.
    """
    with phone_call_log_context(phone_call_id):
        result = phone_calls_dial_batch(phone_call_ids=[phone_call_id], check_callout=check_callout)
        if phone_call_id not in result.sent:
            return None
        return PhoneCall.objects.filter(pk=phone_call_id).first()


def _record_create_result(
    phone_call_id: int, result: CreateResult, provider: Provider | None, *, probe: bool = False
) -> PhoneCall:
    """Apply the provider's answer to one call (benchmarks and tests record answers they made up)."""
    call = PhoneCall.objects.get(pk=phone_call_id)
    answers_record([(call, result)], provider, probe=probe)
    return PhoneCall.objects.get(pk=phone_call_id)
