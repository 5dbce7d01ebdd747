"""Twilio, through the official twilio library (explicit timeout, no environment leakage of region/edge)."""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.rest.api.v2010.account.call import CallList  # noqa: F401 - loaded once, before a worker forks its pool
from urllib3.exceptions import NameResolutionError, NewConnectionError

from ..statuses import REMOTE_STATUS_TO_STATUS
from .base import HTTP_TIMEOUT_SECONDS, CreateOutcome, CreateResult, FetchResult, Provider, ProviderError

logger = logging.getLogger(__name__)

# Twilio CallStatus -> SCFM status ("no-answer" -> "not_answered", ...): the table lives in phone_calls/statuses.py,
# where status_for_remote_status applies it forward only; Somleng and the simulator speak the same vocabulary.
CALL_STATUS_TO_STATUS = REMOTE_STATUS_TO_STATUS

CALL_FIELDS = (
    "sid",
    "account_sid",
    "parent_call_sid",
    "date_created",
    "date_updated",
    "to",
    "to_formatted",
    "from_",
    "from_formatted",
    "status",
    "start_time",
    "end_time",
    "duration",
    "price",
    "price_unit",
    "direction",
    "answered_by",
    "api_version",
    "queue_time",
    "uri",
)


def call_properties(call) -> dict:
    """A call resource as a JSON-safe dict (what remote_queue_response / remote_response store)."""
    properties = {}
    for name in CALL_FIELDS:
        value: Any = getattr(call, name, None)
        properties[name.rstrip("_")] = value.isoformat() if hasattr(value, "isoformat") else value
    return properties


# What a refused Calls.create means, first matching row wins: ("code", provider error code) rows before ("http",
# status) rows. Codes are Twilio's error dictionary (https://www.twilio.com/docs/api/errors/<code>); Somleng answers
# with the same codes as strings (and its own, e.g. 13224 "invalid To", which falls to the 4xx row).
CREATE_ERROR_TABLE: tuple[tuple[str, str | range, CreateOutcome, str], ...] = (
    ("code", "20003", CreateOutcome.ACCOUNT_FAULT, "authenticate: wrong Account SID / Auth Token, suspended, closed"),
    ("code", "20005", CreateOutcome.ACCOUNT_FAULT, "account not active: out of funds or trial not activated"),
    ("code", "10001", CreateOutcome.ACCOUNT_FAULT, "account is not active: disabled, lack of funds"),
    ("code", "20006", CreateOutcome.ACCOUNT_FAULT, "access denied: the credentials lack the privileges"),
    ("code", "20403", CreateOutcome.ACCOUNT_FAULT, "403 forbidden: the account is suspended or closed"),
    ("code", "70051", CreateOutcome.ACCOUNT_FAULT, "authorization failed: account or API key not found, suspended"),
    ("code", "90010", CreateOutcome.ACCOUNT_FAULT, "account is not active: suspended"),
    ("code", "20429", CreateOutcome.RETRY, "too many requests: never processed"),
    ("http", range(401, 402), CreateOutcome.ACCOUNT_FAULT, "unauthenticated, whatever the code"),
    ("http", range(403, 404), CreateOutcome.ACCOUNT_FAULT, "forbidden, whatever the code"),
    ("http", range(429, 430), CreateOutcome.RETRY, "rate limited: never processed"),
    ("http", range(400, 500), CreateOutcome.REJECTED, "the number's or the request's fault: 21210, 21211, 13224..."),
    ("http", range(500, 600), CreateOutcome.UNKNOWN, "may have been processed: never dialled again"),
)


def create_error_outcome(http_status: int | None, code) -> CreateOutcome:
    """The outcome of a Calls.create the provider refused with `http_status` and error `code` (CREATE_ERROR_TABLE);
    UNKNOWN for anything the table does not cover."""
    code = str(code).strip() if code not in (None, "") else None
    for kind, key, outcome, _meaning in CREATE_ERROR_TABLE:
        if kind == "code" and code is not None and code == key:
            return outcome
        if kind == "http" and isinstance(key, range) and http_status in key:
            return outcome
    return CreateOutcome.UNKNOWN


def never_sent(error: requests.RequestException) -> bool:
    """True when the request certainly never reached the provider (refused, unresolvable, connect timeout)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return isinstance(reason, NewConnectionError | NameResolutionError)
    return False


# One keep-alive connection pool per account and process: the dialler sends a batch's create requests from up to
# DIAL_POOL_SIZE threads at once (phone_calls/dial_batches.py), so the pool holds as many connections. A fresh
# TwilioHttpClient per request (what twilio's Client does by default) opens a new TCP (and TLS) connection per call.
DIAL_POOL_SIZE = 16
POOLED_CLIENTS_MAX = 64  # accounts whose client a process keeps (least recently used go first)
_clients: OrderedDict[tuple, Client] = OrderedDict()
_clients_lock = threading.Lock()
os.register_at_fork(after_in_child=_clients.clear)  # a pool's sockets must not be shared with a forked child


def pooled_client(account_sid: str, auth_token: str, api_base_url: str | None, timeout: float) -> Client:
    """The twilio `Client` of these credentials and base URL, kept per process and shared by threads: one
    `TwilioHttpClient` whose requests.Session holds DIAL_POOL_SIZE keep-alive connections (http and https)."""
    key = (account_sid, auth_token, api_base_url, timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            _clients.move_to_end(key)
            return client
        http_client = TwilioHttpClient(timeout=timeout)
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=DIAL_POOL_SIZE)
        for scheme in ("http://", "https://"):
            http_client.session.mount(scheme, adapter)
        client = Client(
            account_sid,
            auth_token,
            http_client=http_client,
            # non-empty, so TWILIO_REGION / TWILIO_EDGE in os.environ cannot rewrite the host
            environment={"TWILIO_ACCOUNT_SID": account_sid},
        )
        if api_base_url:
            client.api.base_url = api_base_url
        _clients[key] = client
        while len(_clients) > POOLED_CLIENTS_MAX:
            _clients.popitem(last=False)
        return client


FIND_PAGE_SIZE = 50
FIND_CLOCK_SKEW = timedelta(minutes=1)


def _duration(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class TwilioProvider(Provider):
    """Calls through api.twilio.com (or any Twilio-compatible base URL)."""

    name = "twilio"
    status_table = CALL_STATUS_TO_STATUS

    def __init__(
        self,
        *,
        account_sid: str | None,
        auth_token: str | None,
        api_base_url: str | None = None,
        timeout: float = HTTP_TIMEOUT_SECONDS,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.api_base_url = api_base_url.rstrip("/") if api_base_url else None
        self.timeout = timeout

    @classmethod
    def for_account(cls, account) -> TwilioProvider:
        return cls(
            account_sid=account.twilio_account_sid or settings.TWILIO_ACCOUNT_SID,
            auth_token=account.twilio_auth_token or settings.TWILIO_AUTH_TOKEN,
        )

    def client(self) -> Client:
        """The process's pooled client for these credentials (`pooled_client`): safe to use from many threads."""
        return pooled_client(self.account_sid or "", self.auth_token or "", self.api_base_url, self.timeout)

    def create_call(self, phone_call, params: dict) -> CreateResult:
        if not (self.account_sid and self.auth_token):
            message = f"{self.name} credentials are not configured"
            return CreateResult(CreateOutcome.ACCOUNT_FAULT, error_message=message)
        kwargs = {("from_" if key == "from" else key): value for key, value in params.items()}
        try:
            call = self.client().calls.create(**kwargs)
        except TwilioRestException as error:
            message = f"{error.msg} (code {error.code}, HTTP {error.status})"
            outcome = create_error_outcome(error.status, error.code)
            code = str(error.code) if error.code not in (None, "") else None
            return CreateResult(outcome, error_message=message, error_code=code)
        except requests.RequestException as error:
            # unreachable (refused, unresolvable, connect timeout): never sent; the account cannot dial at all
            outcome = CreateOutcome.ACCOUNT_FAULT if never_sent(error) else CreateOutcome.UNKNOWN
            logger.warning("%s create for phone call %s: %s (%s)", self.name, phone_call.pk, error, outcome)
            return CreateResult(outcome, error_message=f"{type(error).__name__}: {error}", error_code="network")
        except TwilioException as error:
            return CreateResult(CreateOutcome.UNKNOWN, error_message=str(error))
        return CreateResult(
            CreateOutcome.ACCEPTED,
            remote_call_id=call.sid,
            remote_status=call.status,
            remote_direction=call.direction,
            response=call_properties(call),
        )

    def calls_created_to(self, msisdn: str, since) -> list[CreateResult]:
        """Calls.list by To (newest first, one page of FIND_PAGE_SIZE) created since `since` less FIND_CLOCK_SKEW
        (our clock and the provider's may differ)."""
        if not (self.account_sid and self.auth_token):
            raise ProviderError(f"{self.name} credentials are not configured")
        try:
            calls = self.client().calls.list(to=msisdn, limit=FIND_PAGE_SIZE, page_size=FIND_PAGE_SIZE)
        except (TwilioException, requests.RequestException) as error:
            raise ProviderError(str(error)) from error
        return [
            CreateResult(
                CreateOutcome.ACCEPTED,
                remote_call_id=call.sid,
                remote_status=call.status,
                remote_direction=call.direction,
                response=call_properties(call),
            )
            for call in calls
            if call.to == msisdn and call.date_created is not None and call.date_created >= since - FIND_CLOCK_SKEW
        ]

    def fetch_call(self, remote_call_id: str) -> FetchResult:
        if not (self.account_sid and self.auth_token):
            raise ProviderError(f"{self.name} credentials are not configured")
        try:
            call = self.client().calls(remote_call_id).fetch()
        except (TwilioException, requests.RequestException) as error:
            raise ProviderError(str(error)) from error
        return FetchResult(
            remote_status=call.status,
            duration=_duration(call.duration),
            remote_direction=call.direction,
            response=call_properties(call),
        )
