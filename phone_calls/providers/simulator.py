"""The built-in simulator: no network. It accepts every call and, a few seconds later, drives it to an outcome.

The outcome is drawn from the account's `simulator_outcomes` mix (Twilio CallStatus -> weight) after
`simulator_delay_seconds`; completed calls last `simulator_call_duration` seconds (defaults and ranges in
accounts/settings.py). The outcome travels the same path as a real status callback (phone_calls.remote_events), so a
whole callout can be rehearsed without a telephone company: `phone_call_simulate_outcome` in simulator_outcomes.py
(beside this module) applies it, run by the `simulate_call_outcome` task that `call_accepted` schedules.

Losing that task's message (a truncated broker file, a purged queue) only delays the outcome: once it is overdue,
`fetch_call` answers it too, and the stale-status poll (polling.py) asks the simulator about its calls 30 s after
acceptance and every 30 s after that (`stale_status_after`, `refetch_after`; a fetch here is one database read).
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from django.utils import timezone

from accounts.settings import AccountSettings

from ..statuses import REMOTE_STATUS_TO_STATUS
from .base import CreateOutcome, CreateResult, FetchResult, Provider, ProviderError

SIMULATOR_ACCOUNT_SID = "ACsimulator"


def choose_outcome(account, rng: random.Random | None = None) -> tuple[str, int]:
    """(CallStatus, duration in seconds) for one simulated call."""
    settings = AccountSettings.from_account(account)
    mix = settings.simulator_outcomes
    status = (rng or random).choices(list(mix), weights=list(mix.values()))[0]
    duration = settings.simulator_call_duration if status == "completed" else 0
    return status, duration


def outcome_delay(account) -> float:
    """Seconds before a simulated call ends (settings.simulator_delay_seconds, default 3)."""
    return AccountSettings.from_account(account).simulator_delay_seconds


def call_overdue(phone_call, account) -> bool:
    """Whether the simulated call should have ended by now: accepted at least `simulator_delay_seconds` ago."""
    accepted = phone_call.remotely_queued_at
    return accepted is not None and accepted + timedelta(seconds=outcome_delay(account)) <= timezone.now()


class SimulatorProvider(Provider):
    """Accepts every call; `call_accepted` schedules its simulated outcome."""

    name = "simulator"
    status_table = REMOTE_STATUS_TO_STATUS  # it draws Twilio CallStatus values (simulator_outcomes)
    stale_status_after = timedelta(seconds=30)
    refetch_after = timedelta(seconds=30)
    dials_for_real = False  # a call is "dialled" only once its acceptance is recorded (call_accepted)

    def __init__(self, account):
        self.account = account

    @classmethod
    def for_account(cls, account) -> SimulatorProvider:
        return cls(account)

    def create_call(self, phone_call, params: dict) -> CreateResult:
        sid = "SIM" + uuid.uuid4().hex
        response = {
            "sid": sid,
            "account_sid": SIMULATOR_ACCOUNT_SID,
            "to": params.get("to"),
            "from": params.get("from"),
            "status": "queued",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
        }
        return CreateResult(
            CreateOutcome.ACCEPTED,
            remote_call_id=sid,
            remote_status="queued",
            remote_direction="outbound-api",
            response=response,
        )

    def fetch_call(self, remote_call_id: str) -> FetchResult:
        """The call as the simulator sees it: its stored status until `simulator_delay_seconds` after acceptance,
        then an outcome drawn from the mix (so a call whose simulate_call_outcome message was lost still ends).
        Raises ProviderError for a SID the simulator never gave out."""
        from phone_calls.models import PhoneCall

        call = PhoneCall.objects.filter(remote_call_id=remote_call_id).first()
        if call is None:
            raise ProviderError(f"simulator has no call {remote_call_id}")
        status, duration = call.remote_status or "queued", call.duration
        if not call.is_terminal and call_overdue(call, self.account):
            status, duration = choose_outcome(self.account)
        return FetchResult(
            remote_status=status,
            duration=duration,
            remote_direction="outbound-api",
            response={"sid": remote_call_id, "status": status},
        )

    def call_accepted(self, phone_call) -> None:
        from phone_calls.tasks import simulate_call_outcome

        simulate_call_outcome.apply_async((phone_call.pk,), countdown=outcome_delay(self.account))
