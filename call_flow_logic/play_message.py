"""CallFlowLogic::PlayMessage: plays the callout's audio_url."""

from .base import CallFlow

NO_AUDIO_MESSAGE = "No audio URL to play. Bye Bye"


class PlayMessage(CallFlow):
    name = "CallFlowLogic::PlayMessage"

    def twiml(self) -> str:
        response = self.response()
        callout = self.phone_call.callout
        if callout is not None and callout.audio_url:
            response.play(callout.audio_url)
        else:
            response.say(NO_AUDIO_MESSAGE)
        return str(response)
