"""The simulator provider settles every call, even when the message carrying its outcome is lost (issue 11, 8).

Family of inputs covered: the `simulate_call_outcome` message goes missing (never delivered: a truncated broker
file, a purged queue) or the worker dies between stamping a call and recording the simulator's answer; at any
`simulator_delay_seconds` (0, 1, the default 3, 60) and for every outcome of the mix (completed, busy, no-answer,
failed: the retry policy applies as it does to a delivered outcome). The right value: the call ends with an outcome
of the mix once the delay has passed, through the stale-status poll 30 s after acceptance (or is dialled again a
minute after an unrecorded stamp). What must not happen: an outcome before the delay, a second outcome for an ended
call, a real provider's call polled or dialled again on the simulator's schedule.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from phone_calls import dispatch as dispatching
from phone_calls import polling, tasks
from phone_calls.models import PhoneCall
from phone_calls.providers.simulator import SimulatorProvider
from tests.factories import AccountFactory, CalloutFactory, PhoneCallFactory

pytestmark = pytest.mark.django_db

OUTCOME_STATUS = {"completed": "completed", "busy": "busy", "no-answer": "not_answered", "failed": "failed"}


def simulator_account(outcome: str = "completed", delay: float = 1, **settings):
    return AccountFactory(
        platform_provider_name="simulator",
        settings={
            "simulator_outcomes": {outcome: 1},
            "simulator_delay_seconds": delay,
            "max_calls_per_second": 0,
            "retry_backoff_seconds": 10,
            **settings,
        },
    )


def accepted_call(account, seconds_ago: float, **fields) -> PhoneCall:
    return PhoneCallFactory(
        callout_participation__callout=CalloutFactory(account=account, status="running"),
        dialled=True,
        remote_call_id=f"SIM{PhoneCall.objects.count():032x}",
        remotely_queued_at=timezone.now() - timedelta(seconds=seconds_ago),
        **fields,
    )


@pytest.fixture
def outcome_messages_lost(monkeypatch):
    """The broker loses every simulate_call_outcome message (call_accepted's task never runs)."""
    monkeypatch.setattr(SimulatorProvider, "call_accepted", lambda self, phone_call: None)


@pytest.mark.parametrize("delay", [0, 1, 3, 60])
def test_fetch_answers_the_stored_status_until_the_delay_has_passed_then_the_outcome(delay):
    account = simulator_account("busy", delay=delay)
    early = accepted_call(account, seconds_ago=max(delay - 0.5, 0))
    due = accepted_call(account, seconds_ago=delay + 0.1)
    provider = SimulatorProvider(account)

    assert provider.fetch_call(early.remote_call_id).remote_status == ("queued" if delay else "busy")
    fetched = provider.fetch_call(due.remote_call_id)
    assert (fetched.remote_status, fetched.duration, fetched.response["status"]) == ("busy", 0, "busy")


def test_fetch_of_a_completed_outcome_carries_its_duration():
    account = simulator_account("completed", simulator_call_duration=7)
    call = accepted_call(account, seconds_ago=5)
    fetched = SimulatorProvider(account).fetch_call(call.remote_call_id)
    assert (fetched.remote_status, fetched.duration) == ("completed", 7)


def test_fetch_leaves_an_ended_call_as_it_ended():
    account = simulator_account("busy")
    call = accepted_call(account, seconds_ago=60, status="completed", remote_status="completed", duration=12)
    fetched = SimulatorProvider(account).fetch_call(call.remote_call_id)
    assert (fetched.remote_status, fetched.duration) == ("completed", 12)


@pytest.mark.parametrize("outcome", list(OUTCOME_STATUS))
def test_a_call_whose_outcome_message_was_lost_is_settled_by_the_stale_poll(
    outcome, outcome_messages_lost, django_capture_on_commit_callbacks
):
    account = simulator_account(outcome)
    call = PhoneCallFactory(callout_participation__callout=CalloutFactory(account=account, status="running"))
    with django_capture_on_commit_callbacks(execute=True):
        dispatching.account_calls_dispatch(account_id=account.pk, hold_seconds=0)
    call.refresh_from_db()
    assert call.status == "remotely_queued"

    with django_capture_on_commit_callbacks(execute=True):
        assert polling.phone_calls_stale_fetch_enqueue() == 0  # not before 30 s
    PhoneCall.objects.filter(pk=call.pk).update(remotely_queued_at=timezone.now() - timedelta(seconds=31))
    with django_capture_on_commit_callbacks(execute=True):
        assert polling.phone_calls_stale_fetch_enqueue() == 1

    call.refresh_from_db()
    assert call.status == OUTCOME_STATUS[outcome]
    retries = PhoneCall.objects.filter(callout_participation=call.callout_participation, status="created")
    assert retries.count() == (0 if outcome == "completed" else 1)


def test_the_scheduler_tick_settles_a_call_whose_outcome_message_was_lost(
    outcome_messages_lost, django_capture_on_commit_callbacks
):
    account = simulator_account("completed")
    call = accepted_call(account, seconds_ago=31)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.scheduler_tick()
    call.refresh_from_db()
    assert call.status == "completed"
    call.callout_participation.refresh_from_db()
    assert call.callout_participation.answered


def test_a_late_outcome_message_after_the_poll_changes_nothing(django_capture_on_commit_callbacks):
    account = simulator_account("completed")
    call = accepted_call(account, seconds_ago=31)
    with django_capture_on_commit_callbacks(execute=True):
        polling.phone_calls_stale_fetch_enqueue()
    account.settings = {**account.settings, "simulator_outcomes": {"busy": 1}}
    account.save()
    tasks.simulate_call_outcome(call.pk)  # the delayed message turns up after all
    call.refresh_from_db()
    assert call.status == "completed"
    assert PhoneCall.objects.filter(callout_participation=call.callout_participation).count() == 1


# Which calls the poll fetches. Family: each provider (the simulator, by name or as the default provider for an
# account that names none; Twilio; Somleng) x the time since acceptance x the time since the last fetch.
@pytest.mark.parametrize(
    ("provider", "accepted_ago", "fetched_ago", "due"),
    [
        ("simulator", 29, None, False),
        ("simulator", 31, None, True),
        ("simulator", 120, 20, False),
        ("simulator", 120, 31, True),
        (None, 31, None, True),  # no provider named: PLATFORM_PROVIDER, the simulator in tests
        ("twilio", 31, None, False),
        ("twilio", 9 * 60, None, False),
        ("twilio", 11 * 60, None, True),
        ("twilio", 30 * 60, 5 * 60, False),
        ("twilio", 30 * 60, 16 * 60, True),
        ("somleng", 31, None, False),
        ("somleng", 11 * 60, None, True),
    ],
)
def test_the_poll_fetches_a_call_on_its_providers_schedule(settings, provider, accepted_ago, fetched_ago, due):
    settings.PLATFORM_PROVIDER = "simulator"
    account = AccountFactory(platform_provider_name=provider)
    fetched_at = None if fetched_ago is None else timezone.now() - timedelta(seconds=fetched_ago)
    accepted_call(account, seconds_ago=accepted_ago, remote_status_fetch_queued_at=fetched_at)
    assert polling.phone_calls_stale_fetch_enqueue() == (1 if due else 0)


# Sweeping `queued`. Family: a claimed call whose dial task never ran (any provider), and a call stamped whose
# answer was never recorded (the worker died mid-dial), on the simulator (dials nobody: dial it again) or a real
# provider (it may have rung: never again; it expires after an hour).
def test_a_lost_dial_task_is_sent_again_after_a_minute_and_then_at_most_once_a_minute(db):
    call = PhoneCallFactory(status="queued")
    now = timezone.now()
    PhoneCall.objects.filter(pk=call.pk).update(updated_at=now - timedelta(seconds=50))
    assert polling.phone_calls_sweep_queued(now=now) == (0, 0)
    assert polling.phone_calls_sweep_queued(now=now + timedelta(seconds=11)) == (1, 0)
    assert polling.phone_calls_sweep_queued(now=now + timedelta(seconds=12)) == (0, 0)
    assert polling.phone_calls_sweep_queued(now=now + timedelta(seconds=80)) == (1, 0)


def test_a_simulator_call_stamped_but_never_recorded_is_dialled_again(django_capture_on_commit_callbacks):
    account = simulator_account("completed")
    call = PhoneCallFactory(
        callout_participation__callout=CalloutFactory(account=account, status="running"),
        status="queued",
        dispatched_at=timezone.now() - timedelta(seconds=61),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert polling.phone_calls_sweep_queued() == (1, 0)
    call.refresh_from_db()
    assert call.status == "completed"
    assert call.remote_call_id.startswith("SIM")


def test_a_real_providers_call_stamped_but_never_recorded_is_never_dialled_again(
    fake_twilio, django_capture_on_commit_callbacks
):
    account = AccountFactory(
        platform_provider_name="somleng",
        somleng_account_sid=fake_twilio.account_sid,
        somleng_auth_token=fake_twilio.auth_token,
        somleng_api_base_url=fake_twilio.base_url,
        settings={"from_phone_number": "1234"},
    )
    stamped = timezone.now() - timedelta(minutes=30)
    call = PhoneCallFactory(
        callout_participation__callout=CalloutFactory(account=account, status="running"),
        status="queued",
        dispatched_at=stamped,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert polling.phone_calls_sweep_queued() == (0, 0)
    call.refresh_from_db()
    assert (call.status, call.dispatched_at) == ("queued", stamped)
    assert fake_twilio.requests == []
