"""The provider interface: what the dialler needs from a telephone company, and the results it gets back.

Every adapter (twilio, somleng, simulator) creates calls and fetches their state. Outcomes of a create request are
classified once, here, so the dispatcher never guesses:

- ``accepted``: the provider has the call (a remote call id); the call becomes ``remotely_queued``.
- ``rejected``: a definite refusal for the number's or the request's fault (invalid To/From, other 4xx); the call
  becomes ``errored`` with the provider's message.
- ``account_fault``: the provider refused the *account* (wrong credentials, suspended, out of funds) or could not be
  reached at all, so the request was certainly not processed; the call goes back to ``created`` without using an
  attempt and the account's dialling pauses until a probe gets through (phone_calls/dialling_pauses.py).
- ``retry``: the request was certainly not processed (429); the call goes back to ``created`` and is dialled
  later, without any risk of a second real call.
- ``unknown``: the request may have been processed (read timeout, 5xx, connection dropped after sending). The call
  is never re-dialled blindly: a status callback (correlated by ``phone_call_id``) settles it, or after a few minutes
  the provider is asked whether it created the call (phone_calls/unrecorded.py); the hourly expiry is the last resort.

Which provider answer is which is one table, CREATE_ERROR_TABLE in twilio.py (Somleng speaks the same API).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import Account
    from phone_calls.models import PhoneCall

HTTP_TIMEOUT_SECONDS = 15.0


class CreateOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ACCOUNT_FAULT = "account_fault"
    RETRY = "retry"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CreateResult:
    """What came of asking a provider to dial."""

    outcome: CreateOutcome
    remote_call_id: str | None = None
    remote_status: str | None = None
    remote_direction: str | None = None
    response: dict = field(default_factory=dict)
    error_message: str | None = None
    # why it failed, for the provider-errors metric (phone_calls/metrics.py): the provider's error code as a string
    # ("21211"), "network" when it could not be reached or did not answer, None when accepted or not known
    error_code: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """A call as the provider sees it now."""

    remote_status: str | None
    duration: int | None = None
    remote_direction: str | None = None
    response: dict = field(default_factory=dict)


class ProviderError(Exception):
    """A fetch that failed (network, auth, unknown call); the poller tries again later."""


class Provider:
    """A telephone company. Subclasses set `name` and implement `for_account`, `create_call` and `fetch_call`."""

    name: str
    # the provider's CallStatus -> SCFM status (see twilio.py and statuses.REMOTE_STATUS_TO_STATUS)
    status_table: dict[str, str] = {}
    # status polling (polling.py): a call accepted this long ago that the provider has not ended is fetched
    # (fetch_call), and fetched again at most this often
    stale_status_after: timedelta = timedelta(minutes=10)
    refetch_after: timedelta = timedelta(minutes=15)
    # False for a provider that dials nobody (the simulator): a call stamped for dialling whose answer was never
    # recorded (its worker died in between) is then dialled again by the sweep instead of expiring (polling.py)
    dials_for_real: bool = True

    @classmethod
    def for_account(cls, account: Account) -> Provider:
        raise NotImplementedError

    def create_call(self, phone_call: PhoneCall, params: dict) -> CreateResult:
        """Ask for `phone_call` to be dialled with Twilio `calls.create` params (snake_case, `from` for From)."""
        raise NotImplementedError

    def fetch_call(self, remote_call_id: str) -> FetchResult:
        """The provider's current view of a call; raises ProviderError."""
        raise NotImplementedError

    def calls_created_to(self, msisdn: str, since: datetime) -> list[CreateResult]:
        """The calls the provider created to `msisdn` at `since` or later, newest first, as ACCEPTED results (what
        polling.py needs to learn whether a create request whose answer was lost ever arrived). Raises
        ProviderError when it cannot tell (then nobody is dialled again; the hourly expiry settles the call)."""
        raise ProviderError(f"{self.name} cannot look up calls")

    def call_accepted(self, phone_call: PhoneCall) -> None:
        """Called once the call is stored as remotely queued (after commit). Real providers do nothing."""
