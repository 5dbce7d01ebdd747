"""A fake phone on a live call: fetches our TwiML over real HTTP the way Twilio/Somleng does, presses digits.

Usage::

    caller = FakeCaller(url=f"{live_server.url}/twilio_webhooks/phone_call_events?phone_call_id=1",
                        account_sid="AC...", auth_token="...", call_sid="CA1", to="+85512345678")
    caller.answer()              # the first voice request; follows <Redirect>s
    caller.press("1")            # answers the pending <Gather> with Digits=1 (posts to its action)
    caller.status("completed", CallDuration="42")   # a signed status callback
    caller.last                  # the last TwiML document (an ElementTree element)

Every request is signed with X-Twilio-Signature via tests.fakes.fake_twilio.send_callback.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from email.utils import formatdate

from tests.fakes.fake_twilio import send_callback

MAX_REDIRECTS = 10


class FakeCaller:
    def __init__(
        self,
        *,
        url: str,
        account_sid: str,
        auth_token: str,
        call_sid: str,
        to: str,
        from_: str = "1234",
        direction: str = "outbound-api",
    ):
        self.url = url
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.call_sid = call_sid
        self.to = to
        self.from_ = from_
        self.direction = direction
        self.last: ET.Element | None = None
        self.current_url = url
        self.documents: list[ET.Element] = []

    def params(self, **extra) -> dict:
        return {
            "CallSid": self.call_sid,
            "AccountSid": self.account_sid,
            "From": self.from_,
            "To": self.to,
            "ApiVersion": "2010-04-01",
            "Direction": self.direction,
            **extra,
        }

    def _fetch(self, url: str, **extra) -> ET.Element:
        status, body = send_callback(url, self.params(CallStatus="in-progress", **extra), self.auth_token)
        assert status == 200, (status, body)
        self.current_url = url
        self.last = ET.fromstring(body)
        self.documents.append(self.last)
        return self.last

    def _follow(self, document: ET.Element) -> ET.Element:
        for _ in range(MAX_REDIRECTS):
            redirect = document.find("Redirect")
            if redirect is None:
                return document
            document = self._fetch(redirect.text or self.current_url)
        raise AssertionError("too many redirects")

    def answer(self) -> ET.Element:
        return self._follow(self._fetch(self.url))

    def press(self, digits: str) -> ET.Element:
        """Answer the pending <Gather> (or <Record>) with `digits` ("" = timeout with actionOnEmptyResult)."""
        assert self.last is not None
        verb = self.last.find("Gather")
        if verb is None:
            verb = self.last.find("Record")
        assert verb is not None, ET.tostring(self.last)
        action = verb.get("action") or self.current_url
        return self._follow(self._fetch(action, Digits=digits))

    def record(self, recording_sid: str, recording_url: str) -> ET.Element:
        """Finish the pending <Record>: post its action with the recording parameters."""
        assert self.last is not None and self.last.find("Record") is not None
        action = self.last.find("Record").get("action") or self.current_url
        return self._follow(
            self._fetch(action, RecordingSid=recording_sid, RecordingUrl=recording_url, RecordingDuration="3")
        )

    def status(self, call_status: str, *, url: str | None = None, **extra) -> tuple[int, bytes]:
        params = self.params(
            CallStatus=call_status,
            CallbackSource="call-progress-events",
            Timestamp=formatdate(usegmt=True),
            **extra,
        )
        return send_callback(url or self.url, params, self.auth_token)

    def plays(self) -> list[str]:
        """Every <Play> URL of the last document (inside Gathers too)."""
        assert self.last is not None
        return [element.text for element in self.last.iter("Play")]
