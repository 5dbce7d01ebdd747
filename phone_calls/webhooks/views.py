"""Provider webhooks: the voice Url / StatusCallback (answered with TwiML) and recording status callbacks."""

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..recordings import recording_status_callback_handle
from ..remote_events import RemoteEventInvalid, remote_phone_call_event_handle
from .signatures import WebhookRejected, signer_account, webhook_params, webhook_signer


def _rejected(error: WebhookRejected) -> HttpResponse:
    return HttpResponse(error.message, status=error.status, content_type="text/plain")


@csrf_exempt
@require_POST
def phone_call_events(request):
    """POST a Twilio/Somleng callback: 200 with the call flow's TwiML (text/xml)."""
    try:
        params = webhook_params(request)
        signer = webhook_signer(request, params)
        _event, twiml = remote_phone_call_event_handle(
            account=signer_account(signer),
            params=params,
            url=settings.SCFM_PUBLIC_URL + request.get_full_path(),
            call=signer.call,
        )
    except WebhookRejected as error:
        return _rejected(error)
    except RemoteEventInvalid as error:
        return HttpResponse(str(error), status=400, content_type="text/plain")
    return HttpResponse(twiml, content_type="text/xml")


@csrf_exempt
@require_POST
def recording_status_callbacks(request):
    """POST a recording status callback: store the recording (fetched in the background); 204."""
    try:
        params = webhook_params(request)
        recording_status_callback_handle(account=signer_account(webhook_signer(request, params)), params=params)
    except WebhookRejected as error:
        return _rejected(error)
    except RemoteEventInvalid as error:
        return HttpResponse(str(error), status=400, content_type="text/plain")
    return HttpResponse(status=204)
