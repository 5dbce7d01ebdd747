"""Provider callbacks (Twilio/Somleng voice Url and StatusCallback): store, advance the call, answer with TwiML.

`remote_phone_call_event_handle` is the one entry point, used by the webhook views and the simulator provider.

Status callbacks for a call we know by CallSid are the hot path (several per call, at the rate calls end): on
PostgreSQL most are applied by status_callbacks in one conditional statement. Everything else, and any status
callback that path hands back, runs here in one transaction with the phone call row locked first, so two callbacks
for one call are applied one after the other (neither update is lost) and the lock order (call, then event rows)
can never deadlock.
"""

import logging
from urllib.parse import parse_qs, urlsplit

from django.db import IntegrityError, transaction
from twilio.twiml.voice_response import VoiceResponse

from accounts.models import Account
from call_flow_logic.registry import FALLBACK, flow_class_for
from contacts.services import contact_upsert
from scfm.logging import phone_call_log_context
from scfm.metadata import merge_metadata

from . import metrics
from .callers import caller_msisdn, provider_address
from .lifecycle import phone_call_apply_remote_status, seconds
from .models import PhoneCall, RemotePhoneCallEvent
from .selectors import CallState
from .status_callbacks import status_callback_apply

logger = logging.getLogger(__name__)

STATUS_CALLBACK_SOURCE = "call-progress-events"
# a call in one of these remote states has ended: there is nobody left to talk to
ENDED_REMOTE_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
REQUIRED_PARAMS = ("CallSid", "AccountSid")
# provider bookkeeping no callback reads: left out of the locking SELECT (loaded on first access if ever needed)
UNUSED_CALL_FIELDS = ("remote_response", "remote_queue_response", "remote_request_params")
EMPTY_TWIML = str(VoiceResponse())


class RemoteEventInvalid(Exception):
    """A callback whose parameters cannot describe a call (missing CallSid or AccountSid, a CallSid of another
    account): a 400."""


def _phone_call_id_from(url: str | None) -> int | None:
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("phone_call_id") or []
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


def remote_event_validate(params: dict) -> None:
    """Raise RemoteEventInvalid unless the callback names a call and an account."""
    missing = [name for name in REQUIRED_PARAMS if not str(params.get(name) or "").strip()]
    if missing:
        raise RemoteEventInvalid(f"missing {', '.join(missing)}")


def _locked_calls():
    return PhoneCall.objects.select_for_update().defer(*UNUSED_CALL_FIELDS)


def _locked_call(pk: int) -> PhoneCall:
    return _locked_calls().get(pk=pk)


def _phone_call_for(*, account: Account, params: dict, url: str | None) -> PhoneCall:
    """The call a callback is about, locked: by CallSid, else by the phone_call_id in our URL, else a new one."""
    call_sid = params["CallSid"]
    try:
        existing = _locked_calls().get(remote_call_id=call_sid)  # unique: no ORDER BY needed
    except PhoneCall.DoesNotExist:
        existing = None
    if existing is not None:
        if existing.account_id != account.pk:
            raise RemoteEventInvalid("CallSid belongs to another account")
        return existing
    phone_call_id = _phone_call_id_from(url)
    if phone_call_id and PhoneCall.objects.filter(pk=phone_call_id, account=account).exists():
        call = _locked_call(phone_call_id)
        if not call.remote_call_id:
            call.remote_call_id = call_sid
            call.save(update_fields=["remote_call_id", "updated_at"])
        return call
    return _phone_call_create_from_callback(account=account, params=params)


def _phone_call_create_from_callback(*, account: Account, params: dict) -> PhoneCall:
    """An inbound call (or an outbound one we never dialled), race-safe on CallSid. The caller (From; To for an
    outbound call) becomes a contact when it has a usable number (callers.caller_msisdn); a hidden or non-telephone
    caller is answered all the same, stored with no contact and `msisdn` as the provider sent it."""
    direction = str(params.get("Direction") or "")
    number = params.get("From") if direction.startswith("inbound") else params.get("To")
    msisdn = caller_msisdn(number)
    contact = contact_upsert(account=account, msisdn=msisdn) if msisdn else None
    try:
        with transaction.atomic():
            call = PhoneCall.objects.create(
                account=account,
                contact=contact,
                msisdn=contact.msisdn if contact else provider_address(number),
                remote_call_id=params["CallSid"],
                remote_direction=direction or None,
                call_flow_logic=account.call_flow_logic or FALLBACK,
            )
    except IntegrityError:
        # the same new call's other callback created it first
        call = PhoneCall.objects.filter(remote_call_id=params["CallSid"], account=account).first()
        if call is None:
            raise RemoteEventInvalid("CallSid belongs to another account") from None
    return _locked_call(call.pk)


def call_flow_logic_for(phone_call: PhoneCall) -> str:
    """The flow that answers a call: the call's, else its participation's, else its callout's, else the account's."""
    candidates = (
        lambda: phone_call.call_flow_logic,
        lambda: phone_call.callout_participation.call_flow_logic if phone_call.callout_participation_id else None,
        lambda: phone_call.callout.call_flow_logic if phone_call.callout_id else None,
        lambda: phone_call.account.call_flow_logic,
    )
    for candidate in candidates:
        name = candidate()
        if name and flow_class_for(name) is not None:
            return name
    return FALLBACK


def _is_status_callback(params: dict) -> bool:
    if params.get("CallbackSource") == STATUS_CALLBACK_SOURCE:
        return True
    return str(params.get("CallStatus") or "").lower() in ENDED_REMOTE_STATUSES


def remote_phone_call_event_handle(
    *, account: Account, params: dict, url: str | None = None, call: CallState | None = None
) -> tuple[RemotePhoneCallEvent, str]:
    """Store one callback, move its call forward, and return the TwiML of the call's flow.

    Status callbacks (CallbackSource=call-progress-events, or a call that has ended) are recorded and answered with an
    empty <Response/>: they never advance an IVR; most take the fast path of status_callbacks. `call` is the state
    of the call the CallSid names, when the caller has read it. Raises RemoteEventInvalid for a callback that names
    no call.
    """
    params = {str(key): value for key, value in params.items()}
    remote_event_validate(params)
    if _is_status_callback(params):
        metrics.status_callback_received(params.get("CallStatus"))
        event = status_callback_apply(account_id=account.pk, params=params, call=call)
        if event is not None:
            return event, EMPTY_TWIML
    return _remote_phone_call_event_handle_locked(account=account, params=params, url=url)


@transaction.atomic
def _remote_phone_call_event_handle_locked(
    *, account: Account, params: dict, url: str | None
) -> tuple[RemotePhoneCallEvent, str]:
    call = _phone_call_for(account=account, params=params, url=url)
    with phone_call_log_context(call.pk):
        call = phone_call_apply_remote_status(
            call,
            remote_status=params.get("CallStatus"),
            duration=params.get("CallDuration"),
            remote_direction=params.get("Direction"),
        )
        flow_name = call_flow_logic_for(call)
        event = RemotePhoneCallEvent.objects.create(
            phone_call=call,
            details=params,
            remote_call_id=params["CallSid"],
            remote_direction=str(params.get("Direction") or ""),
            call_flow_logic=flow_name,
            call_duration=seconds(params.get("CallDuration")),
        )
        if _is_status_callback(params):
            return event, EMPTY_TWIML
        flow = flow_class_for(flow_name)(phone_call=call, event=event, current_url=url)
        flow.run()
        return event, flow.twiml()


def remote_phone_call_event_update(
    *, event: RemotePhoneCallEvent, metadata: dict | None = None, metadata_merge_mode: str | None = None
) -> RemotePhoneCallEvent:
    """Change an event's metadata (the only writable attribute of an event)."""
    event.metadata = merge_metadata(event.metadata, metadata, metadata_merge_mode)
    event.save(update_fields=["metadata", "updated_at"])
    return event
