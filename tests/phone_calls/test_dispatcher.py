"""The dispatcher, the dial step, polling, sweeping and the scheduler tick (tasks run inline)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from callouts import selectors as callout_selectors
from phone_calls import dispatch as dispatching
from phone_calls import leases, polling, tasks
from phone_calls.models import DispatchState, PhoneCall, SchedulerLease
from tests.factories import AccountFactory, CalloutFactory, PhoneCallFactory

pytestmark = pytest.mark.django_db


def account_on(fake, **settings):
    if fake is None:  # claims only: nobody is dialled
        return AccountFactory(settings={"phone_call_queue_limit": 200, **settings})
    return AccountFactory(
        platform_provider_name="somleng",
        somleng_account_sid=fake.account_sid,
        somleng_auth_token=fake.auth_token,
        somleng_api_base_url=fake.base_url,
        settings={"from_phone_number": "1234", "phone_call_queue_limit": 200, **settings},
    )


def calls_in(callout, count: int) -> list[PhoneCall]:
    return [PhoneCallFactory(callout_participation__callout=callout) for _ in range(count)]


def dispatch(account, django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return dispatching.account_calls_dispatch(account_id=account.pk, hold_seconds=0)


def statuses(calls) -> list[str]:
    return [PhoneCall.objects.get(pk=call.pk).status for call in calls]


def test_running_callout_calls_are_dialled_when_dispatched(fake_twilio, django_capture_on_commit_callbacks):
    account = account_on(fake_twilio, max_calls_per_second=0)
    callout = CalloutFactory(account=account, status="running")
    calls = calls_in(callout, 3)
    assert dispatch(account, django_capture_on_commit_callbacks) == 3
    assert statuses(calls) == ["remotely_queued"] * 3
    call = PhoneCall.objects.get(pk=calls[0].pk)
    assert call.remote_call_id and call.dispatched_at and call.remotely_queued_at
    assert call.remote_queue_response["status"] == "queued"
    request = next(r for r in fake_twilio.create_requests() if r.value("To") == call.msisdn)
    assert request.value("Url").endswith(f"/twilio_webhooks/phone_call_events?phone_call_id={call.pk}")
    assert request.value("StatusCallback") == request.value("Url")


def test_remote_request_params_override_from_and_url(fake_twilio, django_capture_on_commit_callbacks):
    account = account_on(fake_twilio, max_calls_per_second=0)
    callout = CalloutFactory(account=account, status="running")
    PhoneCallFactory(
        callout_participation__callout=callout,
        remote_request_params={"from": "345", "url": "https://demo.twilio.com/docs/voice.xml", "method": "GET"},
    )
    dispatch(account, django_capture_on_commit_callbacks)
    [request] = fake_twilio.create_requests()
    assert (request.value("From"), request.value("Url"), request.value("Method")) == (
        "345",
        "https://demo.twilio.com/docs/voice.xml",
        "GET",
    )


@pytest.mark.parametrize("status", ["initialized", "paused", "stopped"])
def test_calls_are_not_dispatched_when_the_callout_is_not_running(
    fake_twilio, django_capture_on_commit_callbacks, status
):
    account = account_on(fake_twilio, max_calls_per_second=0)
    calls = calls_in(CalloutFactory(account=account, status=status), 2)
    assert dispatch(account, django_capture_on_commit_callbacks) == 0
    assert statuses(calls) == ["created", "created"]
    assert fake_twilio.requests == []


def test_calls_are_not_dispatched_before_queue_after(fake_twilio, django_capture_on_commit_callbacks):
    account = account_on(fake_twilio, max_calls_per_second=0)
    callout = CalloutFactory(account=account, status="running")
    later = PhoneCallFactory(callout_participation__callout=callout, queue_after=timezone.now() + timedelta(minutes=5))
    assert dispatch(account, django_capture_on_commit_callbacks) == 0
    assert statuses([later]) == ["created"]


def test_in_flight_calls_are_capped_by_the_queue_limit(fake_twilio, django_capture_on_commit_callbacks):
    account = account_on(fake_twilio, max_calls_per_second=0, phone_call_queue_limit=3)
    callout = CalloutFactory(account=account, status="running")
    PhoneCallFactory(callout_participation__callout=callout, status="in_progress")
    calls_in(callout, 5)
    assert dispatch(account, django_capture_on_commit_callbacks) == 2
    assert (
        PhoneCall.objects.filter(account=account, status__in=["queued", "remotely_queued", "in_progress"]).count() == 3
    )


def test_paced_calls_are_claimed_with_send_slots_one_interval_apart(db):
    account = account_on(None, max_calls_per_second=10)
    calls_in(CalloutFactory(account=account, status="running"), 12)
    before = time.time()
    claimed = dispatching.phone_calls_claim(account_id=account.pk, inline=True)
    assert len(claimed.phone_call_ids) == 5  # the slots of the next half second: no burst, first second <= rate
    slots = [claimed.send_at[pk] for pk in claimed.phone_call_ids]
    assert before - 0.01 <= slots[0] <= time.time() + dispatching.PACED_LEAD.total_seconds()
    gaps = [later - earlier for earlier, later in zip(slots, slots[1:], strict=False)]
    assert gaps == pytest.approx([(1 + dispatching.PACING_MARGIN) / 10] * 4, abs=1e-5)
    again = dispatching.phone_calls_claim(account_id=account.pk, inline=True)  # the schedule goes on
    assert len(again.phone_call_ids) <= 1
    assert [again.send_at[pk] for pk in again.phone_call_ids] == pytest.approx(
        [slots[-1] + (1 + dispatching.PACING_MARGIN) / 10] * len(again.phone_call_ids), abs=1e-5
    )


def test_pacing_starts_anew_after_a_gap_instead_of_catching_up(db):
    account = account_on(None, max_calls_per_second=10)
    calls_in(CalloutFactory(account=account, status="running"), 12)
    dispatching.phone_calls_claim(account_id=account.pk, inline=True)
    DispatchState.objects.filter(pk=account.pk).update(next_slot_at=timezone.now() - timedelta(seconds=5))
    claimed = dispatching.phone_calls_claim(account_id=account.pk, inline=True)
    assert len(claimed.phone_call_ids) == 5
    assert min(claimed.send_at.values()) >= time.time() - 0.5


def test_the_dispatch_loop_sends_paced_calls_at_their_slots(fake_twilio, django_capture_on_commit_callbacks):
    account = account_on(fake_twilio, max_calls_per_second=5)
    calls_in(CalloutFactory(account=account, status="running"), 3)
    assert dispatch(account, django_capture_on_commit_callbacks) == 3  # slots 0, 0.202 and 0.404 s after the first
    arrivals = [request.at for request in fake_twilio.create_requests()]
    assert len(arrivals) == 3
    assert arrivals[-1] - arrivals[0] >= 0.2  # spread over the slots, not sent at once


def test_a_redelivered_dial_task_never_dials_twice(fake_twilio, django_capture_on_commit_callbacks):
    account = account_on(fake_twilio, max_calls_per_second=0)
    [call] = calls_in(CalloutFactory(account=account, status="running"), 1)
    dispatch(account, django_capture_on_commit_callbacks)
    tasks.queue_remote_call(call.pk)
    tasks.queue_remote_call(call.pk)
    assert len(fake_twilio.create_requests()) == 1


def test_a_claimed_call_is_not_dialled_twice_when_the_first_attempt_is_unknown(
    fake_twilio, django_capture_on_commit_callbacks
):
    account = account_on(fake_twilio, max_calls_per_second=0)
    [call] = calls_in(CalloutFactory(account=account, status="running"), 1)
    fake_twilio.fail_all("server_error")
    dispatch(account, django_capture_on_commit_callbacks)
    fake_twilio.fail_all(None)
    tasks.queue_remote_call(call.pk)
    call.refresh_from_db()
    assert call.status == "queued" and call.dispatched_at is not None
    assert "HTTP 500" in call.remote_error_message
    assert len(fake_twilio.requests) == 1


def test_a_rejected_call_is_errored_with_the_message(fake_twilio, django_capture_on_commit_callbacks):
    account = account_on(fake_twilio, max_calls_per_second=0)
    [call] = calls_in(CalloutFactory(account=account, status="running"), 1)
    fake_twilio.fail_to(call.msisdn, "invalid_to")
    dispatch(account, django_capture_on_commit_callbacks)
    call.refresh_from_db()
    assert call.status == "errored"
    assert "Invalid 'To' Phone Number" in call.remote_error_message
    assert call.remote_call_id is None


def test_a_rate_limited_call_goes_back_to_created_for_later(fake_twilio, django_capture_on_commit_callbacks):
    account = account_on(fake_twilio, max_calls_per_second=0)
    [call] = calls_in(CalloutFactory(account=account, status="running"), 1)
    fake_twilio.fail_all("rate_limited")
    dispatch(account, django_capture_on_commit_callbacks)
    call.refresh_from_db()
    assert call.status == "created"
    assert call.dispatched_at is None
    assert call.queue_after > timezone.now()


def test_a_claimed_call_of_a_paused_callout_is_put_back(fake_twilio, django_capture_on_commit_callbacks):
    account = account_on(fake_twilio, max_calls_per_second=0)
    callout = CalloutFactory(account=account, status="running")
    [call] = calls_in(callout, 1)
    dispatching.phone_calls_claim(account_id=account.pk)  # claimed, its dial task not run yet
    type(callout).objects.filter(pk=callout.pk).update(status="paused")
    tasks.queue_remote_call(call.pk)
    assert statuses([call]) == ["created"]
    assert fake_twilio.requests == []


def test_calls_stuck_in_queued_for_an_hour_expire(db):
    # a real provider's call (it may have rung; the simulator's is dialled again instead: test_simulator.py)
    call = PhoneCallFactory(
        status="queued",
        dispatched_at=timezone.now() - timedelta(hours=2),
        callout_participation__callout__account__platform_provider_name="twilio",
    )
    assert polling.phone_calls_sweep_queued() == (0, 1)
    assert statuses([call]) == ["expired"]


def test_lost_dial_tasks_are_sent_again(fake_twilio, django_capture_on_commit_callbacks):
    account = account_on(fake_twilio)
    call = PhoneCallFactory(
        callout_participation__callout=CalloutFactory(account=account, status="running"), status="queued"
    )
    PhoneCall.objects.filter(pk=call.pk).update(updated_at=timezone.now() - timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert polling.phone_calls_sweep_queued() == (1, 0)
    assert statuses([call]) == ["remotely_queued"]


def test_stale_calls_are_fetched_from_the_provider(fake_twilio, django_capture_on_commit_callbacks):
    account = account_on(fake_twilio, max_calls_per_second=0)
    [call] = calls_in(CalloutFactory(account=account, status="running"), 1)
    dispatch(account, django_capture_on_commit_callbacks)
    call.refresh_from_db()
    fake_twilio.set_status(call.remote_call_id, "completed", duration=12)
    PhoneCall.objects.filter(pk=call.pk).update(remotely_queued_at=timezone.now() - timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        assert polling.phone_calls_stale_fetch_enqueue() == 1
    call.refresh_from_db()
    assert (call.status, call.duration, call.remote_response["status"]) == ("completed", 12, "completed")
    assert call.remote_status_fetch_queued_at is not None
    assert polling.phone_calls_stale_fetch_enqueue() == 0  # throttled: not again within 15 minutes


def test_the_scheduler_tick_skips_when_another_scheduler_holds_the_lease(db, monkeypatch):
    kicked = []
    monkeypatch.setattr(callout_selectors, "accounts_with_running_callouts", lambda: kicked.append(1) or [])
    assert leases.lease_acquire(name=tasks.SCHEDULER_LEASE, seconds=60, owner="other-scheduler")
    tasks.scheduler_tick()
    assert kicked == []
    leases.lease_release(name=tasks.SCHEDULER_LEASE, owner="other-scheduler")
    tasks.scheduler_tick()
    assert kicked == [1]


def test_dispatch_makes_a_single_pass_and_keeps_the_lease_when_a_sibling_process_holds_it():
    # the dispatch lease is held per loop, not per process: prefork children share the process-level WORKER_ID,
    # so a sibling worker child (same hostname, inherited WORKER_ID) may be looping for this account
    account = AccountFactory()
    lease = f"dispatch:{account.pk}"
    assert leases.lease_acquire(name=lease, seconds=60, owner=leases.WORKER_ID)
    dispatching.account_calls_dispatch(account_id=account.pk, hold_seconds=0)
    held = SchedulerLease.objects.get(name=lease)
    assert held.owner == leases.WORKER_ID
    assert held.expires_at > timezone.now()


def test_the_simulator_drives_calls_to_the_configured_outcome(db, django_capture_on_commit_callbacks):
    account = AccountFactory(
        platform_provider_name="simulator",
        settings={"simulator_outcomes": {"busy": 1}, "max_calls_per_second": 0, "retry_backoff_seconds": 60},
    )
    callout = CalloutFactory(account=account, status="running")
    [call] = calls_in(callout, 1)
    dispatch(account, django_capture_on_commit_callbacks)
    call.refresh_from_db()
    assert call.status == "busy"
    assert call.remote_call_id.startswith("SIM")
    retry = PhoneCall.objects.get(callout_participation=call.callout_participation, status="created")
    assert retry.queue_after > timezone.now()


# One call per participation in flight: the family is "a participation with several waiting calls" (claimed one at a
# time, lowest id first) and "a participation with a call in flight, whatever put it there" (its waiting calls are
# skipped until that call settles).
def test_a_second_waiting_call_of_a_participation_stays_created_until_the_first_settles(
    fake_twilio, django_capture_on_commit_callbacks
):
    account = account_on(fake_twilio, max_calls_per_second=0)
    callout = CalloutFactory(account=account, status="running")
    first = PhoneCallFactory(callout_participation__callout=callout)
    second = PhoneCallFactory(callout_participation=first.callout_participation)
    alone = PhoneCallFactory(callout_participation__callout=callout)

    assert dispatch(account, django_capture_on_commit_callbacks) == 2
    assert statuses([first, second, alone]) == ["remotely_queued", "created", "remotely_queued"]
    assert dispatch(account, django_capture_on_commit_callbacks) == 0
    assert statuses([second]) == ["created"]

    fake_twilio.set_status(PhoneCall.objects.get(pk=first.pk).remote_call_id, "no-answer")
    PhoneCall.objects.filter(pk=first.pk).update(status="not_answered")
    assert dispatch(account, django_capture_on_commit_callbacks) == 1
    assert statuses([first, second]) == ["not_answered", "remotely_queued"]
    assert sorted(fake_twilio.dials_by_phone_call_id().values()) == [1, 1, 1]


@pytest.mark.parametrize("status", ["queued", "remotely_queued", "in_progress"])
def test_a_waiting_call_is_not_claimed_while_its_participation_has_a_call_in_flight(
    fake_twilio, django_capture_on_commit_callbacks, status
):
    account = account_on(fake_twilio, max_calls_per_second=0)
    in_flight = PhoneCallFactory(callout_participation__callout=CalloutFactory(account=account, status="running"))
    PhoneCall.objects.filter(pk=in_flight.pk).update(status=status)
    waiting = PhoneCallFactory(callout_participation=in_flight.callout_participation)
    assert dispatch(account, django_capture_on_commit_callbacks) == 0
    assert statuses([waiting]) == ["created"]
    assert fake_twilio.requests == []


def test_a_claim_that_meets_a_call_put_in_flight_concurrently_skips_only_that_call(db):
    # the claim read the participation as free, then a `queue` event committed another of its calls: the partial
    # unique index refuses the bulk move, and each call is moved on its own
    callout = CalloutFactory(status="running")
    blocked = PhoneCallFactory(callout_participation__callout=callout)
    PhoneCallFactory(callout_participation=blocked.callout_participation, status="remotely_queued")
    free = PhoneCallFactory(callout_participation__callout=callout)
    moved = dispatching.phone_calls_mark_queued(phone_call_ids=[blocked.pk, free.pk], now=timezone.now())
    assert moved == [free.pk]
    assert statuses([blocked, free]) == ["created", "queued"]
