"""CallFlowLogic::HelloWorld: the default flow, a greeting and a song."""

from .base import CallFlow

MESSAGE = "Thanks for trying our documentation. Enjoy!"
SONG_URL = "https://demo.twilio.com/docs/classic.mp3"


class HelloWorld(CallFlow):
    name = "CallFlowLogic::HelloWorld"

    def twiml(self) -> str:
        response = self.response()
        response.say(MESSAGE)
        response.play(SONG_URL)
        return str(response)
