"""Shared arrangements for the webhook, remote event, recording and call flow tests."""

from urllib.parse import urlencode

from django.conf import settings
from twilio.request_validator import RequestValidator

from tests.factories import AccountFactory, CalloutFactory, PhoneCallFactory

TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "twilio-secret-token"
SOMLENG_SID = "6597df9d-ddd8-4f36-abba-325e63b81caa"
SOMLENG_TOKEN = "somleng-secret-token"
FORM = "application/x-www-form-urlencoded"


def provider_account(**fields):
    credentials = {
        "twilio_account_sid": TWILIO_SID,
        "twilio_auth_token": TWILIO_TOKEN,
        "somleng_account_sid": SOMLENG_SID,
        "somleng_auth_token": SOMLENG_TOKEN,
    }
    return AccountFactory(**{**credentials, **fields})


def outbound_call(account, *, call_flow_logic="CallFlowLogic::HelloWorld", audio_url=None, msisdn=None, call_sid=None):
    """A dialled call, whose CallSid we do not know yet unless `call_sid` is given (its callout is not running:
    nothing dials a retry)."""
    callout = CalloutFactory(account=account, call_flow_logic=call_flow_logic, audio_url=audio_url)
    contact = {"callout_participation__contact__msisdn": msisdn} if msisdn else {}
    return PhoneCallFactory(dialled=True, remote_call_id=call_sid, callout_participation__callout=callout, **contact)


def callback_params(call_sid="CA1", account_sid=TWILIO_SID, **extra) -> dict:
    return {
        "CallSid": call_sid,
        "AccountSid": account_sid,
        "From": "1234",
        "To": "+252662345678",
        "ApiVersion": "2010-04-01",
        "Direction": "outbound-api",
        **extra,
    }


def signed_post(client, path: str, params: dict, token: str = TWILIO_TOKEN, *, signature: str | None = None):
    """POST a form the way the provider does, signed for the URL under SCFM_PUBLIC_URL."""
    if signature is None:
        signature = RequestValidator(token).compute_signature(settings.SCFM_PUBLIC_URL + path, params)
    return client.post(path, urlencode(params), content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature)
