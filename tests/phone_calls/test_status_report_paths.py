"""Differential test of the two ways a provider's status report is applied: the SQL fast path
(phone_calls/status_callbacks.py) and the locked ORM path (remote_events -> lifecycle.phone_call_apply_remote_status).

Twin calls get the same reports, one through each path, and must end with the same call, participation, successor
(retry) and event rows. Where the fast path declines a report (an outcome that may schedule a retry) it must leave
the call untouched, and the webhook's fallback (the locked path) then applies it.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from callouts.models import CalloutParticipation
from contacts.models import Contact
from phone_calls.models import PhoneCall, RemotePhoneCallEvent
from phone_calls.remote_events import remote_phone_call_event_handle
from phone_calls.status_callbacks import status_callback_apply
from phone_calls.statuses import TERMINAL_STATUSES, PhoneCallStatus
from tests.phone_calls.webhook_helpers import callback_params, outbound_call, provider_account

pytestmark = pytest.mark.django_db

INITIAL_STATUSES = [status.value for status in PhoneCallStatus]
REPORTED = ["queued", "initiated", "ringing", "in-progress", "answered", "completed", "busy", "no-answer", "failed"]
REPORTED += ["canceled", "", "bogus"]
CALL_FIELDS = ("status", "remote_status", "duration", "remote_direction", "lock_version", "remotely_queued_at")
ABSENT = object()


@pytest.fixture
def account(require_postgresql):
    return provider_account()


def twin(account, sid: str, *, participation: bool = True, **fields) -> PhoneCall:
    """A dialled call known by `sid`, in the given state (status, remote_status, remotely_queued_at, ...)."""
    if participation:
        call = outbound_call(account)
    else:
        contact = Contact.objects.filter(account=account).first() or outbound_call(account).contact
        call = PhoneCall.objects.create(
            account=account, contact=contact, msisdn=contact.msisdn, call_flow_logic="CallFlowLogic::HelloWorld"
        )
    PhoneCall.objects.filter(pk=call.pk).update(remote_call_id=sid, **fields)
    if participation:
        CalloutParticipation.objects.filter(pk=call.callout_participation_id).update(phone_calls_count=1)
    return PhoneCall.objects.get(pk=call.pk)


def twins(account, **fields) -> tuple[PhoneCall, PhoneCall]:
    fields.setdefault("status", PhoneCallStatus.REMOTELY_QUEUED)
    fields.setdefault("remotely_queued_at", timezone.now() - timedelta(minutes=10))
    return twin(account, "CA-locked", **fields), twin(account, "CA-fast", **fields)


def report(call: PhoneCall, status, duration=ABSENT, direction="outbound-api") -> dict:
    extra = {"CallbackSource": "call-progress-events"}
    if status is not ABSENT:
        extra["CallStatus"] = status
    if duration is not ABSENT:
        extra["CallDuration"] = duration
    params = callback_params(call_sid=call.remote_call_id, **extra)
    if direction is ABSENT:
        del params["Direction"]
    else:
        params["Direction"] = direction
    return params


def snapshot(call_id: int) -> dict:
    call = PhoneCall.objects.get(pk=call_id)
    state = {"call": {name: getattr(call, name) for name in CALL_FIELDS}}
    if call.callout_participation_id:
        participation = CalloutParticipation.objects.get(pk=call.callout_participation_id)
        state["participation"] = (participation.answered, participation.phone_calls_count)
        successors = participation.phone_calls.exclude(pk=call_id).order_by("pk")
        state["successors"] = [(c.status, c.call_flow_logic, c.queue_after is not None) for c in successors]
    state["events"] = [
        (
            {key: value for key, value in event.details.items() if key != "CallSid"},
            event.metadata,
            event.remote_call_id == call.remote_call_id,
            event.remote_direction,
            event.call_flow_logic,
            event.call_duration,
        )
        for event in RemotePhoneCallEvent.objects.filter(phone_call_id=call_id).order_by("pk")
    ]
    return state


def apply_locked(account, params: dict, monkeypatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr("phone_calls.remote_events.status_callback_apply", lambda **kwargs: None)
        remote_phone_call_event_handle(account=account, params=params)


def apply_fast(account, call: PhoneCall, params: dict) -> bool:
    """The fast path, falling back to the webhook's locked path as the webhook does; True if the fast path took it."""
    before = snapshot(call.pk)
    if status_callback_apply(account_id=account.pk, params=params) is not None:
        return True
    assert snapshot(call.pk) == before  # a declined report leaves no trace
    remote_phone_call_event_handle(account=account, params=params)
    return False


def run_both(account, monkeypatch, locked: PhoneCall, fast: PhoneCall, reports: list[dict]) -> list[bool]:
    taken = []
    for fields in reports:
        apply_locked(account, report(locked, **fields), monkeypatch)
        taken.append(apply_fast(account, fast, report(fast, **fields)))
    assert snapshot(fast.pk) == snapshot(locked.pk)
    return taken


def declines(before: str, after: str, participation: bool = True) -> bool:
    """The fast path hands over a report that ends an attempt other than by `completed` (a retry may be due), and one
    that moves a call into or out of `expired` (the participation gives up, or takes that back)."""
    if not participation or after == before:
        return False
    ends_unanswered = after in TERMINAL_STATUSES and after != PhoneCallStatus.COMPLETED
    return ends_unanswered or PhoneCallStatus.EXPIRED in (before, after)


@pytest.mark.parametrize("initial", INITIAL_STATUSES)
@pytest.mark.parametrize("reported", REPORTED)
def test_both_paths_agree_for_every_status_pair(account, monkeypatch, initial, reported):
    locked, fast = twins(account, status=initial, remote_status="queued")
    [took_fast] = run_both(account, monkeypatch, locked, fast, [{"status": reported, "duration": "0"}])
    after = PhoneCall.objects.get(pk=locked.pk).status
    assert took_fast is not declines(initial, after)


@pytest.mark.parametrize("reported", ["in-progress", "completed", "busy", "no-answer", "failed", "canceled"])
def test_both_paths_agree_for_calls_without_a_participation(account, monkeypatch, reported):
    locked, fast = twins(account, participation=False, status=PhoneCallStatus.IN_PROGRESS)
    assert run_both(account, monkeypatch, locked, fast, [{"status": reported}]) == [True]


@pytest.mark.parametrize("duration", [ABSENT, "", "0", "17", "17.9", "-5", "junk", "99999999999"])
@pytest.mark.parametrize("reported", ["in-progress", "completed", "busy"])
def test_both_paths_agree_on_durations(account, monkeypatch, duration, reported):
    locked, fast = twins(account, status=PhoneCallStatus.IN_PROGRESS, duration=4)
    run_both(account, monkeypatch, locked, fast, [{"status": reported, "duration": duration}])


# Found by this test: a call stored with an empty (not NULL) remote_direction and a report without a Direction was
# left "" by the locked path but set to NULL by the fast path; the fast path now keeps what is stored.
@pytest.mark.parametrize("stored", [None, "", "outbound-api"])
@pytest.mark.parametrize("reported", [ABSENT, "", "outbound-api", "inbound"])
def test_both_paths_agree_on_directions(account, monkeypatch, stored, reported):
    locked, fast = twins(account, remote_direction=stored)
    run_both(account, monkeypatch, locked, fast, [{"status": "ringing", "direction": reported}])


@pytest.mark.parametrize("initial", ["remotely_queued", "in_progress", "expired"])
@pytest.mark.parametrize("reported", ["queued", "initiated", "ringing", "completed", "no-answer"])
def test_both_paths_agree_on_reports_an_hour_late(account, monkeypatch, initial, reported):
    locked, fast = twins(account, status=initial, remotely_queued_at=timezone.now() - timedelta(hours=2))
    run_both(account, monkeypatch, locked, fast, [{"status": reported}])


@pytest.mark.parametrize(
    "sequence",
    [
        ["ringing", "ringing"],
        ["in-progress", "in-progress", "completed", "completed"],
        ["completed", "ringing"],  # a late ringing after the end
        ["completed", "no-answer"],
        ["busy", "busy"],  # a duplicated failure schedules one retry
        ["no-answer", "completed"],
        ["ringing", "queued", "in-progress", "failed"],
        ["answered", ABSENT, "canceled"],  # a report without a CallStatus keeps the reported one
        ["bogus", "completed", "completed"],
    ],
)
def test_both_paths_agree_on_sequences_with_duplicates_and_late_reports(account, monkeypatch, sequence):
    locked, fast = twins(account)
    reports = [{"status": status, "duration": str(index * 7)} for index, status in enumerate(sequence)]
    run_both(account, monkeypatch, locked, fast, reports)
