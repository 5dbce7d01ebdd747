"""The interface every call flow implements, built in or registered through REGISTERED_CALL_FLOW_LOGIC.

A flow is built for one webhook request of one call: `run()` does the flow's writes (step kept in
`phone_call.metadata["status"]`, results in the contact's metadata) inside the webhook's transaction, with the phone
call row locked; `twiml()` returns the TwiML answer. Only `name` and `twiml()` are required.
"""

from twilio.twiml.voice_response import VoiceResponse


class CallFlow:
    """Base class of call flows: `CallFlow(phone_call=..., event=..., current_url=...)`."""

    name: str = ""

    def __init__(self, *, phone_call, event=None, current_url: str | None = None):
        self.phone_call = phone_call
        self.event = event
        self.current_url = current_url

    @property
    def params(self) -> dict:
        return (self.event.details if self.event is not None else None) or {}

    def run(self) -> None:
        """Advance the flow for this request (optional)."""

    def twiml(self) -> str:
        raise NotImplementedError

    @staticmethod
    def response() -> VoiceResponse:
        return VoiceResponse()
