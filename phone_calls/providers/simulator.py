"""The built-in simulator: no network. It accepts every call and, a few seconds later, drives it to an outcome.

The outcome is drawn from the account's `simulator_outcomes` mix (Twilio CallStatus -> weight, default
DEFAULT_OUTCOMES) after `simulator_delay_seconds` (default 3); completed calls last `simulator_call_duration`
seconds (default 20). The outcome travels the same path as a real status callback (phone_calls.remote_events), so a
whole callout can be rehearsed without a telephone company: `phone_call_simulate_outcome` in simulator_outcomes.py
(beside this module) applies it, run by the `simulate_call_outcome` task that `call_accepted` schedules.
"""

from __future__ import annotations

import random
import uuid

from ..statuses import REMOTE_STATUS_TO_STATUS
from .base import CreateOutcome, CreateResult, FetchResult, Provider, ProviderError

DEFAULT_OUTCOMES = {"completed": 0.7, "busy": 0.1, "no-answer": 0.1, "failed": 0.1}
DEFAULT_DELAY_SECONDS = 3.0
DEFAULT_CALL_DURATION = 20
SIMULATOR_ACCOUNT_SID = "ACsimulator"


def outcome_mix(account) -> dict[str, float]:
    """The account's outcome weights; a malformed setting falls back to the default mix."""
    configured = account.setting("simulator_outcomes")
    if not isinstance(configured, dict):
        return dict(DEFAULT_OUTCOMES)
    mix = {}
    for status, weight in configured.items():
        try:
            if float(weight) > 0:
                mix[str(status)] = float(weight)
        except (TypeError, ValueError):
            continue
    return mix or dict(DEFAULT_OUTCOMES)


def choose_outcome(account, rng: random.Random | None = None) -> tuple[str, int]:
    """(CallStatus, duration in seconds) for one simulated call."""
    mix = outcome_mix(account)
    status = (rng or random).choices(list(mix), weights=list(mix.values()))[0]
    duration = int(account.setting("simulator_call_duration", DEFAULT_CALL_DURATION)) if status == "completed" else 0
    return status, duration


def outcome_delay(account) -> float:
    try:
        return max(float(account.setting("simulator_delay_seconds", DEFAULT_DELAY_SECONDS)), 0.0)
    except (TypeError, ValueError):
        return DEFAULT_DELAY_SECONDS


class SimulatorProvider(Provider):
    """Accepts every call; `call_accepted` schedules its simulated outcome."""

    name = "simulator"
    status_table = REMOTE_STATUS_TO_STATUS  # it draws Twilio CallStatus values (DEFAULT_OUTCOMES)

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
        from phone_calls.models import PhoneCall

        call = PhoneCall.objects.filter(remote_call_id=remote_call_id).first()
        if call is None:
            raise ProviderError(f"simulator has no call {remote_call_id}")
        return FetchResult(
            remote_status=call.remote_status or "queued",
            duration=call.duration,
            remote_direction="outbound-api",
            response={"sid": remote_call_id, "status": call.remote_status or "queued"},
        )

    def call_accepted(self, phone_call) -> None:
        from phone_calls.tasks import simulate_call_outcome

        simulate_call_outcome.apply_async((phone_call.pk,), countdown=outcome_delay(self.account))
