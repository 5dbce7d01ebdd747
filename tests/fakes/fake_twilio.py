"""A fake Twilio / Somleng Calls API on 127.0.0.1, spoken to by the real twilio library (telephony.md section 6).

Usage::

    with FakeTwilio() as fake:                       # or FakeTwilio(somleng=True) for UUID SIDs and 422 string codes
        client = Client(fake.account_sid, fake.auth_token, ...)
        client.api.base_url = fake.base_url          # the providers do this from account.somleng_api_base_url
        fake.fail_to("+85510000000", "invalid_to")    # error injection for one number (or fake.fail_all("...")
        ...
        fake.create_requests()                       # every accepted POST .../Calls.json, in arrival order
        fake.finish(sid, "busy", duration=0)         # sets the call's status and POSTs a signed StatusCallback

What it serves:
- ``POST /2010-04-01/Accounts/{sid}/Calls.json`` (201, a Twilio-shaped call resource, status ``queued``),
  ``GET /2010-04-01/Accounts/{sid}/Calls.json?To=...`` (the account's calls, newest first, one page),
  ``GET /2010-04-01/Accounts/{sid}/Calls/{call_sid}.json`` (the call as it is now; 404/20404 if unknown),
  ``POST /2010-04-01/Accounts/{sid}/Calls/{call_sid}.json`` (update: ``Status=canceled|completed``).
- HTTP Basic auth against the known accounts (``add_account``): 401 + code 20003 otherwise.
- Error injection (``ERRORS``): ``invalid_to`` (400/21211; Somleng 422/"13224"), ``unauthorized`` (401/20003),
  ``account_not_active`` (401/20005, out of funds), ``account_suspended`` (403/10001),
  ``unprocessable`` (422 with the string code "21210", as Somleng does), ``rate_limited`` (429/20429, never
  processed), ``server_error`` (500), ``hang`` (no response until ``hang_seconds`` pass or the server stops).
  A failing request is recorded but creates no call.
- Every request is recorded (``requests``) with its form as a multi-dict, headers and arrival time.
- Live-call tracking: with ``auto_finish=(seconds, status)`` each accepted call ends by itself after that delay and
  ``on_finish(call)`` is called (a test hook that applies the outcome, e.g. through the lifecycle);
  ``max_live`` is the highest number of calls that were live at once.

Signed callbacks: ``signature(auth_token, url, params)`` is Twilio's X-Twilio-Signature
(base64(hmac-sha1(token, url + concatenated sorted name+value pairs))); ``send_callback(url, params, auth_token)``
POSTs a signed form like TwilioProxy does; ``callback_params(call, status)`` builds the standard status-callback
parameters for a call (Somleng mode: a single terminal callback with SequenceNumber "0").
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ERRORS = (
    "invalid_to",
    "unauthorized",
    "account_not_active",
    "account_suspended",
    "unprocessable",
    "rate_limited",
    "server_error",
    "hang",
)
TERMINAL = {"completed", "busy", "no-answer", "failed", "canceled"}
CALLS = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls(?:/(?P<sid>[^/.]+))?\.json$")


def signature(auth_token: str, url: str, params: dict | None = None) -> str:
    """X-Twilio-Signature of a request to `url` with form `params` (values may be strings or lists)."""
    payload = url
    for name in sorted(params or {}):
        values = params[name] if isinstance(params[name], list | tuple) else [params[name]]
        for value in sorted(str(item) for item in values):
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def send_callback(url: str, params: dict, auth_token: str, *, method: str = "POST", timeout: float = 10):
    """Send a signed webhook the way TwilioProxy does; returns (HTTP status, body bytes)."""
    headers = {
        "User-Agent": "TwilioProxy/1.1",
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
    }
    if method == "GET":
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}{urllib.parse.urlencode(params, doseq=True)}"
        data = None
        headers["X-Twilio-Signature"] = signature(auth_token, url)
    else:
        data = urllib.parse.urlencode(params, doseq=True).encode()
        headers["X-Twilio-Signature"] = signature(auth_token, url, params)
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    form: dict[str, list[str]]
    headers: dict[str, str]
    account_sid: str | None
    call_sid: str | None
    status: int = 0
    at: float = field(default_factory=time.monotonic)

    def value(self, name: str) -> str | None:
        values = self.form.get(name) or []
        return values[0] if values else None


class FakeTwilio:
    """A stateful fake of the Calls part of the Twilio 2010-04-01 API (and Somleng's copy of it)."""

    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str = "fake-auth-token",
        somleng: bool = False,
        hang_seconds: float = 30.0,
        auto_finish: tuple[float, str] | None = None,
        on_finish=None,
    ):
        self.somleng = somleng
        self.account_sid = account_sid or (str(uuid.uuid4()) if somleng else "AC" + uuid.uuid4().hex)
        self.auth_token = auth_token
        self.accounts = {self.account_sid: auth_token}
        self.hang_seconds = hang_seconds
        self.auto_finish = auto_finish
        self.on_finish = on_finish
        self.requests: list[RecordedRequest] = []
        self.calls: dict[str, dict] = {}
        self.errors_by_to: dict[str, str] = {}
        self.error_for_all: str | None = None
        self.live = 0
        self.max_live = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._finish_queue: list[tuple[float, str]] = []
        self._finish_wakeup = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> FakeTwilio:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._threads = [
            threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-twilio", daemon=True),
            threading.Thread(target=self._finisher, name="fake-twilio-finisher", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._finish_wakeup.notify_all()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[1]

    # configuration --------------------------------------------------------------------------------------------
    def add_account(self, account_sid: str, auth_token: str) -> None:
        self.accounts[account_sid] = auth_token

    def fail_to(self, to: str, error: str) -> None:
        """Answer every create for this `To` number with `error` (one of ERRORS)."""
        assert error in ERRORS, error
        self.errors_by_to[to] = error

    def fail_all(self, error: str | None) -> None:
        """Answer every create with `error` (None: back to normal)."""
        assert error is None or error in ERRORS, error
        self.error_for_all = error

    # inspection -----------------------------------------------------------------------------------------------
    def create_requests(self) -> list[RecordedRequest]:
        """Accepted call-create requests (201), in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.call_sid is None and r.status == 201]

    def dials_by_phone_call_id(self) -> Counter:
        """How many accepted creates carried each `phone_call_id` in their Url."""
        counts: Counter = Counter()
        for request in self.create_requests():
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.value("Url") or "").query)
            counts[(query.get("phone_call_id") or [None])[0]] += 1
        return counts

    # driving calls --------------------------------------------------------------------------------------------
    def callback_params(self, call: dict, status: str, *, duration: int | None = None, sequence: int = 0) -> dict:
        """The standard status-callback parameters for `call` reaching `status`."""
        params = {
            "CallSid": call["sid"],
            "AccountSid": call["account_sid"],
            "From": call["from"],
            "To": call["to"],
            "CallStatus": status,
            "ApiVersion": "2010-04-01",
            "Direction": "outbound-api",
            "CallbackSource": "call-progress-events",
            "Timestamp": formatdate(usegmt=True),
            "SequenceNumber": "0" if self.somleng else str(sequence),
        }
        if status in TERMINAL:
            params["CallDuration"] = str(duration or 0)
            params["SipResponseCode"] = {"busy": "486", "no-answer": "487", "failed": "404"}.get(status, "200")
        return params

    def set_status(self, sid: str, status: str, *, duration: int | None = None) -> dict:
        """Move a call to `status` (no callback); returns the call."""
        with self._lock:
            call = self.calls[sid]
            was_live = call["status"] not in TERMINAL
            call["status"] = status
            call["date_updated"] = formatdate(usegmt=True)
            if duration is not None:
                call["duration"] = str(duration)
            if was_live and status in TERMINAL:
                self.live -= 1
            return dict(call)

    def finish(self, sid: str, status: str = "completed", *, duration: int | None = None, timeout: float = 10):
        """End a call with `status` and POST the signed status callback to its StatusCallback (if any).

        Returns (HTTP status, body) of the callback, or None when the call has no StatusCallback.
        """
        call = self.set_status(sid, status, duration=duration)
        url = call.get("status_callback")
        if not url:
            return None
        token = self.accounts[call["account_sid"]]
        return send_callback(url, self.callback_params(call, status, duration=duration), token, timeout=timeout)

    def _finisher(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                while not self._stopping.is_set() and (
                    not self._finish_queue or self._finish_queue[0][0] > time.monotonic()
                ):
                    delay = self._finish_queue[0][0] - time.monotonic() if self._finish_queue else 1.0
                    self._finish_wakeup.wait(timeout=max(delay, 0.001))
                if self._stopping.is_set():
                    return
                _due, sid = heapq.heappop(self._finish_queue)
            status = self.auto_finish[1]
            call = self.set_status(sid, status, duration=1 if status == "completed" else 0)
            if self.on_finish:
                self.on_finish(call)

    # request handling (called from server threads) -----------------------------------------------------------
    def _authorized(self, account_sid: str, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            username, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return username == account_sid and self.accounts.get(account_sid) == password

    def _error_body(self, status: int, code: int | str, message: str) -> dict:
        code = str(code) if self.somleng else code
        return {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def _injected(self, to: str | None) -> str | None:
        return self.errors_by_to.get(to or "") or self.error_for_all

    def _create(self, account_sid: str, form: dict[str, list[str]]) -> tuple[int, dict]:
        to = (form.get("To") or [None])[0]
        error = self._injected(to)
        if error == "invalid_to":
            if self.somleng:
                return 422, self._error_body(
                    422, "13224", "Calling this number is unsupported or the number is invalid"
                )
            return 400, self._error_body(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if error == "unauthorized":
            return 401, self._error_body(401, 20003, "Authenticate")
        if error == "account_not_active":  # out of funds
            return 401, self._error_body(401, 20005, "Account not active")
        if error == "account_suspended":
            return 403, self._error_body(403, 10001, "Account is not active")
        if error == "unprocessable":
            return 422, {**self._error_body(422, 21210, "Caller ID is not valid"), "code": "21210"}
        if error == "rate_limited":
            return 429, self._error_body(429, 20429, "Too Many Requests")
        if error == "server_error":
            return 500, self._error_body(500, 20500, "Internal Server Error")
        if not to or not form.get("From") or not (form.get("Url") or form.get("Twiml")):
            return 400, self._error_body(400, 21200, "Missing required parameter")
        sid = str(uuid.uuid4()) if self.somleng else "CA" + uuid.uuid4().hex
        now = formatdate(usegmt=True)
        call = {
            "sid": sid,
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "from": form["From"][0],
            "from_formatted": form["From"][0],
            "to": to,
            "to_formatted": to,
            "status": "queued",
            "start_time": None,
            "end_time": None,
            "price": None,
            "price_unit": "USD",
            "answered_by": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "queue_time": None if self.somleng else "0",
            "uri": f"/2010-04-01/Accounts/{account_sid}/Calls/{sid}.json",
            "subresource_uris": {},
        }
        with self._lock:
            self.calls[sid] = {
                **call,
                "url": (form.get("Url") or [None])[0],
                "status_callback": (form.get("StatusCallback") or [None])[0],
            }
            self.live += 1
            self.max_live = max(self.max_live, self.live)
            if self.auto_finish:
                heapq.heappush(self._finish_queue, (time.monotonic() + self.auto_finish[0], sid))
                self._finish_wakeup.notify_all()
        return 201, call

    def _public(self, sid: str) -> dict:
        call = dict(self.calls[sid])
        call.pop("url", None)
        call.pop("status_callback", None)
        return call

    def handle(self, method: str, path: str, form: dict[str, list[str]], headers: dict[str, str]):
        """Route one request; returns (HTTP status, JSON body, hang?)."""
        match = CALLS.match(path)
        account_sid = match["account"] if match else None
        call_sid = match["sid"] if match else None
        record = RecordedRequest(method, path, form, headers, account_sid, call_sid)
        with self._lock:
            self.requests.append(record)
        if match is None:
            status, body = 404, self._error_body(404, 20404, "The requested resource was not found")
        elif not self._authorized(account_sid, headers.get("Authorization")):
            status, body = 401, self._error_body(401, 20003, "Authenticate")
        elif call_sid is None and method == "GET":
            to = (form.get("To") or [None])[0]
            with self._lock:
                calls = [
                    self._public(sid)
                    for sid, call in reversed(self.calls.items())
                    if call["account_sid"] == account_sid and (to is None or call["to"] == to)
                ]
            status, body = 200, {"calls": calls, "page": 0, "page_size": 50, "next_page_uri": None, "uri": path}
        elif call_sid is None and method == "POST":
            if self._injected((form.get("To") or [None])[0]) == "hang":
                record.status = -1
                return 0, {}, True
            status, body = self._create(account_sid, form)
        elif call_sid is not None and call_sid in self.calls and self.calls[call_sid]["account_sid"] == account_sid:
            if method == "POST" and form.get("Status"):
                self.set_status(call_sid, form["Status"][0])
            status, body = 200, self._public(call_sid)
        else:
            status, body = 404, self._error_body(404, 20404, "The requested resource was not found")
        record.status = status
        return status, body, False


class _Handler(BaseHTTPRequestHandler):
    owner: FakeTwilio
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output quiet
        return

    def _serve(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        form = urllib.parse.parse_qs(body, keep_blank_values=True)
        for name, values in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items():
            form.setdefault(name, values)
        status, payload, hang = self.owner.handle(method, parsed.path, form, dict(self.headers.items()))
        if hang:
            self.owner._stopping.wait(self.owner.hang_seconds)
            self.close_connection = True
            return
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")
