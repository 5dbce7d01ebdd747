"""Batched dialling (dial_batches.py): the stamp, concurrent sends over the pooled client, the set-based record,
and the guarantees of the one-call path on the batch path (issue 13)."""

import threading
import time
import urllib.parse
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from accounts.models import Account
from callouts.counters import callout_counts
from phone_calls import dial_batches, polling, tasks, unrecorded
from phone_calls.models import PhoneCall
from phone_calls.providers.twilio import TwilioProvider, pooled_client
from tests.factories import AccountFactory, CalloutFactory, PhoneCallFactory


def account_on(fake, **settings):
    return AccountFactory(
        platform_provider_name="somleng",
        somleng_account_sid=fake.account_sid,
        somleng_auth_token=fake.auth_token,
        somleng_api_base_url=fake.base_url,
        settings={"from_phone_number": "1234", "phone_call_queue_limit": 200, "max_calls_per_second": 0, **settings},
    )


def queued_calls(account, count: int, callout=None) -> list[int]:
    callout = callout or CalloutFactory(account=account, status="running")
    return [PhoneCallFactory(callout_participation__callout=callout, status="queued").pk for _ in range(count)]


def statuses(ids) -> list[str]:
    return [PhoneCall.objects.get(pk=pk).status for pk in ids]


def phone_call_id(request) -> int:
    return int(urllib.parse.parse_qs(urllib.parse.urlsplit(request.value("Url")).query)["phone_call_id"][0])


@pytest.mark.django_db
def test_a_batch_dials_every_call_once_and_records_them_when_the_provider_accepts(fake_twilio):
    account = account_on(fake_twilio)
    ids = queued_calls(account, 7)
    result = tasks.dial_batch(ids)
    assert result is None
    assert statuses(ids) == ["remotely_queued"] * 7
    assert sorted(phone_call_id(r) for r in fake_twilio.create_requests()) == sorted(ids)
    call = PhoneCall.objects.get(pk=ids[0])
    assert call.remote_call_id and call.dispatched_at and call.remotely_queued_at
    assert call.remote_queue_response["status"] == "queued"


@pytest.mark.django_db
def test_a_redelivered_batch_never_dials_twice(fake_twilio):
    account = account_on(fake_twilio)
    ids = queued_calls(account, 5)
    tasks.dial_batch(ids)
    tasks.dial_batch(ids)
    again = dial_batches.phone_calls_dial_batch(phone_call_ids=ids)
    assert len(fake_twilio.create_requests()) == 5
    assert sorted(again.skipped) == sorted(ids) and again.sent == []


def test_two_overlapping_batches_dial_each_call_once(fake_twilio, transactional_db):
    account = account_on(fake_twilio)
    ids = queued_calls(account, 30)
    errors = []

    def run(chunk):
        try:
            dial_batches.phone_calls_dial_batch(phone_call_ids=chunk)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(ids[start:],)) for start in (0, 10, 0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    dials = fake_twilio.dials_by_phone_call_id()
    assert sorted(dials) == sorted(str(pk) for pk in ids)
    assert set(dials.values()) == {1}
    assert set(statuses(ids)) == {"remotely_queued"}


def test_the_stamp_is_committed_before_the_provider_is_asked(fake_twilio, transactional_db):
    account = account_on(fake_twilio)
    ids = queued_calls(account, 6)
    seen = {}
    handle = fake_twilio.handle

    def handle_and_look(method, path, form, headers):
        if method == "POST" and form.get("Url"):
            pk = int(urllib.parse.parse_qs(urllib.parse.urlsplit(form["Url"][0]).query)["phone_call_id"][0])
            # the fake's server thread has a database connection of its own: it sees committed rows only
            seen[pk] = PhoneCall.objects.filter(pk=pk).values_list("dispatched_at", flat=True).first()
            connections.close_all()
        return handle(method, path, form, headers)

    fake_twilio.handle = handle_and_look
    dial_batches.phone_calls_dial_batch(phone_call_ids=ids)
    assert sorted(seen) == sorted(ids)
    assert all(stamp is not None for stamp in seen.values())


@pytest.mark.django_db
def test_an_account_fault_in_a_batch_pauses_dialling_and_sends_no_more(fake_twilio):
    account = account_on(fake_twilio)
    ids = queued_calls(account, 20)
    fake_twilio.fail_all("unauthorized")
    result = dial_batches.phone_calls_dial_batch(phone_call_ids=ids)
    refused = [r for r in fake_twilio.requests if r.method == "POST" and r.status == 401]
    assert len(refused) == 1  # the first request goes alone; the rest are not sent once the account is refused
    assert statuses(ids) == ["created"] * 20
    assert all(PhoneCall.objects.get(pk=pk).dispatched_at is None for pk in ids)
    assert sorted(result.put_back) == sorted(ids)
    assert Account.objects.get(pk=account.pk).dialling_paused_at is not None


@pytest.mark.django_db
def test_a_number_refused_in_a_batch_errors_only_that_call_and_pauses_nothing(fake_twilio):
    account = account_on(fake_twilio)
    ids = queued_calls(account, 5)
    bad = PhoneCall.objects.get(pk=ids[2])
    fake_twilio.fail_to(bad.msisdn, "invalid_to")
    dial_batches.phone_calls_dial_batch(phone_call_ids=ids)
    assert statuses(ids) == ["remotely_queued", "remotely_queued", "errored", "remotely_queued", "remotely_queued"]
    assert "21211" in PhoneCall.objects.get(pk=bad.pk).remote_error_message
    assert Account.objects.get(pk=account.pk).dialling_paused_at is None
    callout_id = bad.callout_id
    counts = callout_counts(callout_id)
    assert (counts["calls_remotely_queued"], counts["calls_errored"], counts["calls_queued"]) == (4, 1, 0)


def test_a_paused_callout_stops_a_batch_within_a_second(fake_twilio, transactional_db):
    account = account_on(fake_twilio)
    callout = CalloutFactory(account=account, status="running")
    ids = queued_calls(account, 8, callout)
    start = time.time()
    send_at = {pk: start + 0.3 * index for index, pk in enumerate(ids)}  # 2.1 s of slots
    paused = {}

    def pause_soon():
        time.sleep(0.5)
        type(callout).objects.filter(pk=callout.pk).update(status="paused")
        paused["at"] = time.monotonic()
        connections.close_all()

    pauser = threading.Thread(target=pause_soon)
    pauser.start()
    result = dial_batches.phone_calls_dial_batch(phone_call_ids=ids, send_at=send_at)
    pauser.join()
    arrivals = [request.at for request in fake_twilio.create_requests()]
    assert 1 <= len(arrivals) < len(ids)
    assert max(arrivals) <= paused["at"] + 1.0
    sent = {phone_call_id(r) for r in fake_twilio.create_requests()}
    assert sorted(result.put_back) == sorted(set(ids) - sent)
    assert set(statuses(result.put_back)) == {"created"}
    counts = callout_counts(callout.pk)
    assert (counts["calls_created"], counts["calls_remotely_queued"]) == (len(ids) - len(sent), len(sent))


@pytest.mark.django_db
def test_calls_claimed_before_a_pause_of_the_account_go_back_undialled(fake_twilio):
    account = account_on(fake_twilio)
    ids = queued_calls(account, 3)
    Account.objects.filter(pk=account.pk).update(dialling_paused_at=timezone.now(), dialling_paused_reason="x")
    result = dial_batches.phone_calls_dial_batch(phone_call_ids=ids)
    assert sorted(result.put_back) == sorted(ids)
    assert statuses(ids) == ["created"] * 3
    assert fake_twilio.requests == []


@pytest.mark.django_db
def test_the_provider_client_is_pooled_per_process_and_credentials(fake_twilio):
    account = account_on(fake_twilio)
    first = TwilioProvider(account_sid="AC1", auth_token="a", api_base_url=fake_twilio.base_url).client()
    again = TwilioProvider(account_sid="AC1", auth_token="a", api_base_url=fake_twilio.base_url).client()
    other = TwilioProvider(account_sid="AC1", auth_token="b", api_base_url=fake_twilio.base_url).client()
    assert first is again and first is not other
    assert pooled_client("AC1", "a", fake_twilio.base_url, 15.0) is first
    adapter = first.http_client.session.get_adapter(fake_twilio.base_url)
    assert adapter._pool_maxsize == dial_batches.DIAL_THREADS
    assert account.pk


# -- a worker killed mid-batch: stamped calls whose answers were lost -------------------------------------------
@pytest.mark.django_db
def test_a_lost_answer_of_a_call_the_provider_created_is_recorded_without_a_second_dial(
    fake_twilio, django_capture_on_commit_callbacks
):
    account = account_on(fake_twilio)
    [pk] = queued_calls(account, 1)
    call = PhoneCall.objects.get(pk=pk)
    provider = TwilioProvider(account_sid=fake_twilio.account_sid, auth_token=fake_twilio.auth_token)
    provider.api_base_url = fake_twilio.base_url
    stamp = timezone.now() - timedelta(minutes=5)
    PhoneCall.objects.filter(pk=pk).update(dispatched_at=stamp, updated_at=stamp)
    provider.create_call(call, dial_batches.call_request_params(call))  # the request arrived; its answer was lost
    with django_capture_on_commit_callbacks(execute=True):
        assert unrecorded.phone_calls_unrecorded_enqueue() == 1
    assert len(fake_twilio.create_requests()) == 1
    call.refresh_from_db()
    assert call.status == "remotely_queued"
    assert call.remote_call_id in fake_twilio.calls
    assert callout_counts(call.callout_id)["calls_remotely_queued"] == 1


@pytest.mark.django_db
def test_a_lost_request_that_never_arrived_is_put_back_and_dialled_once(
    fake_twilio, django_capture_on_commit_callbacks
):
    account = account_on(fake_twilio)
    [pk] = queued_calls(account, 1)
    stamp = timezone.now() - timedelta(minutes=5)
    PhoneCall.objects.filter(pk=pk).update(dispatched_at=stamp, updated_at=stamp)
    with django_capture_on_commit_callbacks(execute=True):
        assert unrecorded.phone_calls_unrecorded_enqueue() == 1
    assert statuses([pk]) == ["created"]  # back in line, no attempt used: the dispatcher dials it again
    assert PhoneCall.objects.get(pk=pk).dispatched_at is None
    counts = callout_counts(PhoneCall.objects.get(pk=pk).callout_id)
    assert (counts["calls_created"], counts["calls_queued"]) == (1, 0)
    assert fake_twilio.create_requests() == []
    assert unrecorded.phone_calls_unrecorded_enqueue() == 0


@pytest.mark.django_db
def test_a_call_known_to_be_another_calls_is_not_taken_for_the_lost_one(
    fake_twilio, django_capture_on_commit_callbacks
):
    account = account_on(fake_twilio)
    [earlier, pk] = queued_calls(account, 2)
    PhoneCall.objects.filter(pk=pk).update(msisdn=PhoneCall.objects.get(pk=earlier).msisdn)
    tasks.dial_batch([earlier])  # the same number, dialled and recorded
    stamp = timezone.now() - timedelta(minutes=5)
    PhoneCall.objects.filter(pk=pk).update(dispatched_at=stamp, updated_at=stamp)
    with django_capture_on_commit_callbacks(execute=True):
        unrecorded.phone_calls_unrecorded_enqueue()
    assert statuses([earlier, pk]) == ["remotely_queued", "created"]


@pytest.mark.django_db
def test_a_recent_call_is_not_looked_up_and_an_unknown_answer_is(fake_twilio, django_capture_on_commit_callbacks):
    account = account_on(fake_twilio)
    [recent, unknown] = queued_calls(account, 2)
    PhoneCall.objects.filter(pk=recent).update(dispatched_at=timezone.now())
    stamp = timezone.now() - timedelta(minutes=5)
    PhoneCall.objects.filter(pk=unknown).update(dispatched_at=stamp, updated_at=stamp, remote_error_message="HTTP 500")
    with django_capture_on_commit_callbacks(execute=True):
        assert unrecorded.phone_calls_unrecorded_enqueue() == 1  # the 500's request never created a call
    assert statuses([recent, unknown]) == ["queued", "created"]
    assert polling.phone_calls_sweep_queued() == (0, 0)


@pytest.mark.django_db
def test_a_paced_batch_whose_slots_were_missed_catches_up_without_a_burst(fake_twilio):
    account = account_on(fake_twilio)
    ids = queued_calls(account, 6)
    missed = time.time() - 1.0  # every slot already past: a busy machine held the batch back
    batch = dial_batches.SentBatch.start(ids, send_at=dict.fromkeys(ids, missed), background=True, rate=4.5)
    batch.finish()
    arrivals = sorted(request.at for request in fake_twilio.create_requests())
    assert len(arrivals) == 6
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    assert min(gaps) >= 0.12  # 1 / (4.5 + 0.5) s apart, give or take a busy machine's jitter
    assert arrivals[4] - arrivals[0] >= 0.95  # at most 4 (the rate's whole calls) in any second


def test_the_pacer_holds_every_second_to_the_rate_whatever_the_slots():
    pacer = dial_batches._Pacer(min_gap=1 / 10.5, per_window=10)
    moments = [pacer.reserve(100.0) for _ in range(40)]  # forty sends, all due at once
    for index, moment in enumerate(moments):
        in_window = [other for other in moments if moment <= other < moment + 1.0]
        assert len(in_window) <= 10, index
    assert all(later - earlier >= 1 / 10.5 - 1e-9 for earlier, later in zip(moments, moments[1:], strict=False))


def test_the_first_window_after_an_idle_pacer_is_wider_for_the_new_connection():
    """The first send of a run opens a connection and arrives late: the rate's next send waits a margin more."""
    pacer = dial_batches._Pacer(min_gap=1 / 10.5, per_window=10)
    first = [pacer.reserve(100.0) for _ in range(11)]
    assert first[10] - first[0] >= dial_batches.PACER_WINDOW_SECONDS + dial_batches.PACER_FIRST_WINDOW_MARGIN_SECONDS
    steady = [pacer.reserve(100.0) for _ in range(20)]  # later windows: no margin, the rate is kept
    assert steady[-1] - steady[-11] < dial_batches.PACER_WINDOW_SECONDS + 0.01
    idle_then = [pacer.reserve(steady[-1] + 5.0) for _ in range(11)]  # idle for a while: a new run, a new margin
    assert (
        idle_then[10] - idle_then[0]
        >= dial_batches.PACER_WINDOW_SECONDS + dial_batches.PACER_FIRST_WINDOW_MARGIN_SECONDS
    )
