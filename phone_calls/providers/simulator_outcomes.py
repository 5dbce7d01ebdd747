"""The simulator's outcome: its stand-in for a provider's status callback, applied like a real one.

`SimulatorProvider.call_accepted` (simulator.py) schedules the `simulate_call_outcome` task (tasks.py), which runs
`phone_call_simulate_outcome` here after the account's `simulator_delay_seconds`. Kept beside the adapter but out of
it, because it goes through the webhook path (remote_events) and the dialler's URL, which import the providers.
"""

import logging

from scfm.logging import phone_call_log_context

from ..dialling import webhook_url
from ..models import PhoneCall
from ..remote_events import remote_phone_call_event_handle
from .simulator import SIMULATOR_ACCOUNT_SID, choose_outcome

logger = logging.getLogger(__name__)


def phone_call_simulate_outcome(*, phone_call_id: int) -> PhoneCall | None:
    """The simulator's status callback: draw an outcome from the account's mix and apply it like a webhook.

    Returns the refreshed call, or None for a call that is gone, has ended or was never accepted.
    """
    with phone_call_log_context(phone_call_id):
        call = PhoneCall.objects.select_related("account").filter(pk=phone_call_id).first()
        if call is None:
            logger.info("simulated outcome of phone call %s skipped: the call no longer exists", phone_call_id)
            return None
        if call.is_terminal or not call.remote_call_id:
            return None
        status, duration = choose_outcome(call.account)
        params = {
            "CallSid": call.remote_call_id,
            "AccountSid": SIMULATOR_ACCOUNT_SID,
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
