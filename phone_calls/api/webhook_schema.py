"""The provider webhooks in the OpenAPI schema: a drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS) adds
them as form-encoded operations, since they are plain Django views (phone_calls/webhooks/views.py), outside DRF.

They are the requests Twilio or Somleng make to SCFM (telephony.md, "Twilio webhooks"): a form body
(application/x-www-form-urlencoded) signed with `X-Twilio-Signature` by the auth token of the account `AccountSid`
names; no access token. The call webhooks answer the call flow's TwiML (`text/xml`); the recording status callback
answers 204.
"""

TWILIO_CALL_STATUSES = ["queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed", "no-answer"]

SIGNATURE = {
    "name": "X-Twilio-Signature",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "Base64 HMAC-SHA1 of the URL and the sorted form parameters, keyed by the auth token of the "
    "account `AccountSid` names (telephony.md, X-Twilio-Signature). A request it does not match is a 403.",
}


PHONE_CALL_ID = {
    "name": "phone_call_id",
    "in": "query",
    "required": False,
    "schema": {"type": "integer"},
    "description": "The phone call: SCFM adds it to the `Url` and `StatusCallback` it dials with, so the first "
    "callback finds its call before the provider's CallSid is known.",
}


def _form(description: str, required: list[str], properties: dict) -> dict:
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "description": description,
                    "required": required,
                    "properties": {name: {"type": "string", **spec} for name, spec in properties.items()},
                    "additionalProperties": {"type": "string"},
                }
            }
        },
    }


CALL_FORM = _form(
    "Twilio's standard voice request parameters; status callbacks add CallDuration, SipResponseCode and the like, "
    "`<Gather>` actions add Digits. Other parameters are stored in the event's `details`.",
    ["AccountSid", "CallSid"],
    {
        "AccountSid": {"description": "The provider account (`AC...`): its auth token signs the request."},
        "CallSid": {"description": "The call (`CA...`): SCFM's `remote_call_id`."},
        "CallStatus": {"enum": TWILIO_CALL_STATUSES, "description": "Mapped to the phone call's `status`."},
        "Direction": {"description": "`outbound-api` for calls SCFM dialled, `inbound` for calls to its numbers."},
        "From": {"description": "The caller's number."},
        "To": {"description": "The called number."},
        "ApiVersion": {},
        "CallDuration": {"description": "Seconds, on the terminal status callback."},
        "Digits": {"description": "The keys pressed, on a `<Gather>` action."},
    },
)
RECORDING_FORM = _form(
    "Twilio's recording status callback parameters.",
    ["AccountSid", "CallSid", "RecordingSid", "RecordingUrl"],
    {
        "AccountSid": {},
        "CallSid": {"description": "The recorded call: a call SCFM knows."},
        "RecordingSid": {"description": "The recording (`RE...`)."},
        "RecordingUrl": {"description": "Where the provider serves it (SCFM fetches the MP3 in the background)."},
        "RecordingStatus": {},
        "RecordingDuration": {"description": "Seconds."},
    },
)


def _text(description: str) -> dict:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


def _errors() -> dict:
    errors = {"$ref": "#/components/schemas/Errors"}
    return {
        "400": {
            "description": "A body that is not a form, a parameter longer than SCFM stores, a missing AccountSid or "
            "CallSid, or a CallSid of another account (text); a malformed request (JSON).",
            "content": {"text/plain": {"schema": {"type": "string"}}, "application/json": {"schema": errors}},
        },
        "403": _text("Not signed by a known account (`Twilio Request Validation Failed.`)."),
        "413": {"description": "The body is too large.", "content": {"application/json": {"schema": errors}}},
        "422": {
            "description": "A parameter SCFM cannot store (a NUL character).",
            "content": {"application/json": {"schema": errors}},
        },
    }


def _call_webhook(operation_id: str, summary: str, description: str) -> dict:
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": ["webhooks"],
        "security": [],
        "parameters": [SIGNATURE, PHONE_CALL_ID],
        "requestBody": CALL_FORM,
        "responses": {
            "200": {
                "description": "The call flow's next instructions, as TwiML.",
                "content": {"text/xml": {"schema": {"type": "string"}, "example": "<Response><Hangup/></Response>"}},
            },
            **_errors(),
        },
    }


def add_webhook_operations(result, generator, request, public):
    """drf-spectacular postprocessing hook: the provider webhooks, as form-encoded operations."""
    paths = result.setdefault("paths", {})
    paths.setdefault("/api/remote_phone_call_events", {})["post"] = _call_webhook(
        "remote_phone_call_events_webhook",
        "Receive a provider callback (status callback or voice request)",
        "The documented webhook of rest-api-current.txt: every request the provider makes about a call (the voice "
        "`Url` when the callee answers, `<Gather>`/`<Redirect>` actions, and status callbacks). Records a remote "
        "phone call event, moves the call's status (never backwards), and answers the call flow's TwiML.",
    )
    paths["/twilio_webhooks/phone_call_events"] = {
        "post": _call_webhook(
            "twilio_webhooks_phone_call_events",
            "Receive a provider callback (the voice Url and StatusCallback SCFM dials with)",
            "The URL SCFM gives the provider as the voice `Url` and the `StatusCallback` of every call it dials: the "
            "same handling as `POST /api/remote_phone_call_events`.",
        )
    }
    paths["/twilio_webhooks/recording_status_callbacks"] = {
        "post": {
            "operationId": "twilio_webhooks_recording_status_callbacks",
            "summary": "Receive a recording status callback",
            "description": "Stores the recording of a call SCFM knows (the audio is fetched in the background, then "
            "served at `/api/recordings/{id}.mp3`). A CallSid SCFM does not know is a 400.",
            "tags": ["webhooks"],
            "security": [],
            "parameters": [SIGNATURE],
            "requestBody": RECORDING_FORM,
            "responses": {"204": {"description": "Stored (or already stored)."}, **_errors()},
        }
    }
    return result
