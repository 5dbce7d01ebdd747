"""Callout counters (callouts/counters.py) and the recorded given-up state (callouts/outcomes.py).

The differential test runs every write that changes a callout's numbers — populations, the dispatcher's claim,
dial results, status callbacks through the SQL fast path and the locked ORM path, retries, manual calls, deletes —
from several threads at once, with the squash task running alongside, then recounts from the rows: the counters
must equal the recount.
"""

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from batch_operations.callout_population import CalloutPopulation
from batch_operations.models import BatchOperation
from callouts import counters
from callouts.models import CalloutCount, CalloutParticipation
from callouts.services import callout_participation_delete
from phone_calls import dialling, dispatch, lifecycle
from phone_calls.models import PhoneCall
from phone_calls.providers.base import CreateOutcome, CreateResult
from phone_calls.services import phone_call_create, phone_call_delete
from phone_calls.status_callbacks import status_callback_apply
from scfm.errors import DomainError
from tests.factories import AccountFactory, BatchOperationFactory, CalloutFactory, ContactFactory

pytestmark = pytest.mark.django_db

ENDINGS = ["completed", "busy", "no-answer", "failed", "canceled", "completed"]


def _account():
    return AccountFactory(
        settings={"max_calls_per_second": 0, "phone_call_queue_limit": 100000, "retry_backoff_seconds": 1}
    )


def _population(callout):
    operation = BatchOperationFactory(
        account=callout.account, callout=callout, type=BatchOperation.Type.CALLOUT_POPULATION, parameters={}
    )
    BatchOperation.objects.filter(pk=operation.pk).update(status="running")
    return operation


def _populate(operation_id: int) -> None:
    handler = CalloutPopulation()
    while not handler.populate_next_chunk(operation_id, 7):
        pass


def assert_counters_match_rows(callout) -> None:
    recount = counters.counts_from_rows([callout.pk]).get(callout.pk, dict.fromkeys(counters.TOTAL_KEYS, 0))
    assert counters.callout_counts(callout.pk) == recount


def _pick(queryset):
    ids = list(queryset.values_list("pk", flat=True)[:50])
    return random.choice(ids) if ids else None


def _step(account, callout, rng: random.Random) -> None:
    calls = PhoneCall.objects.filter(callout=callout)
    action = rng.choice(["claim", "dial", "fast", "locked", "locked", "manual", "delete", "delete_call", "squash"])
    if action == "claim":
        dispatch.phone_calls_claim(account_id=account.pk, batch_size=20)
    elif action == "dial":
        pk = _pick(calls.filter(status="queued"))
        if pk:
            outcome = CreateOutcome.REJECTED if rng.random() < 0.15 else CreateOutcome.ACCEPTED
            sid = f"CA{pk}" if outcome == CreateOutcome.ACCEPTED else None
            dialling._record_create_result(pk, CreateResult(outcome, remote_call_id=sid, remote_status="queued"), None)
    elif action == "fast":
        call = PhoneCall.objects.filter(pk=_pick(calls.filter(status__in=["remotely_queued", "in_progress"]))).first()
        if call:
            status = rng.choice(["ringing", "in-progress", "completed"])
            params = {"CallSid": call.remote_call_id, "CallStatus": status, "Direction": "outbound-api"}
            if status_callback_apply(account_id=account.pk, params=params) is None:
                lifecycle.phone_call_record_remote_status(phone_call_id=call.pk, remote_status=status)
    elif action == "locked":
        pk = _pick(calls.filter(status__in=["remotely_queued", "in_progress", "expired"]))
        if pk:
            lifecycle.phone_call_record_remote_status(phone_call_id=pk, remote_status=rng.choice(ENDINGS))
    elif action == "manual":
        participation = CalloutParticipation.objects.filter(pk=_pick(callout.callout_participations.all())).first()
        if participation:
            try:
                phone_call_create(participation=participation)
            except DomainError:
                pass
    elif action == "delete":
        participation = CalloutParticipation.objects.filter(pk=_pick(callout.callout_participations.all())).first()
        if participation:
            try:
                callout_participation_delete(participation=participation)
            except (DomainError, CalloutParticipation.DoesNotExist):
                pass
    elif action == "delete_call":
        call = PhoneCall.objects.filter(pk=_pick(calls.filter(status="created"))).first()
        if call:
            try:
                phone_call_delete(phone_call=call)
            except (DomainError, PhoneCall.DoesNotExist):
                pass
    else:
        counters.callout_counts_squash()


@pytest.mark.django_db(transaction=True)
def test_counters_equal_a_recount_after_concurrent_writes(require_postgresql, monkeypatch):
    from phone_calls import tasks

    monkeypatch.setattr(tasks.queue_remote_call, "delay", lambda *args, **kwargs: None)  # the test dials itself
    monkeypatch.setattr(tasks.dial_batch, "delay", lambda *args, **kwargs: None)
    account = _account()
    callout = CalloutFactory(account=account, running=True)
    for _ in range(60):
        ContactFactory(account=account)
    populations = [_population(callout).pk for _ in range(2)]
    errors: list[BaseException] = []

    def worker(seed: int, population_id: int | None) -> None:
        rng = random.Random(seed)
        try:
            if population_id:
                _populate(population_id)
            for _ in range(120):
                try:
                    _step(account, callout, rng)
                except Exception as error:  # a deadlock or serialisation retry is fine; a wrong count is not
                    if "deadlock" not in str(error).lower():
                        raise
                if seed == 0 and rng.random() < 0.05:  # more contacts arrive while dialling goes on
                    ContactFactory(account=account)
                    _populate(_population(callout).pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(seed, populations[seed] if seed < 2 else None)) for seed in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    reached = counters.callout_counts(callout.pk)
    assert reached[counters.ANSWERED] and reached[counters.GIVEN_UP]

    assert CalloutParticipation.objects.filter(callout=callout).exists()
    assert PhoneCall.objects.filter(callout=callout).exclude(status="created").exists()
    assert_counters_match_rows(callout)
    counters.callout_counts_squash()
    assert not counters.callout_counts_unsquashed()
    assert_counters_match_rows(callout)


def test_a_participation_gives_up_when_its_last_allowed_call_is_not_answered():
    account = AccountFactory(settings={"max_phone_calls_for_callout_participation": 1})
    callout = CalloutFactory(account=account)
    ContactFactory(account=account)
    _populate(_population(callout).pk)
    call = PhoneCall.objects.get(callout=callout)
    PhoneCall.objects.filter(pk=call.pk).update(status="in_progress")
    counters.call_moved(callout.pk, "created", "in_progress")

    lifecycle.phone_call_record_remote_status(phone_call_id=call.pk, remote_status="no-answer")

    participation = CalloutParticipation.objects.get(callout=callout)
    assert participation.given_up_at is not None
    assert not PhoneCall.objects.filter(callout=callout, status="created").exists()
    assert counters.callout_counts(callout.pk)[counters.GIVEN_UP] == 1
    assert_counters_match_rows(callout)


def test_a_participation_gives_up_when_its_call_errors_and_errored_is_not_retried():
    account = AccountFactory()
    callout = CalloutFactory(account=account)
    ContactFactory(account=account)
    _populate(_population(callout).pk)
    call = PhoneCall.objects.get(callout=callout)
    PhoneCall.objects.filter(pk=call.pk).update(status="queued")
    counters.call_moved(callout.pk, "created", "queued")

    dialling._record_create_result(call.pk, CreateResult(CreateOutcome.REJECTED, error_message="bad number"), None)

    assert CalloutParticipation.objects.get(callout=callout).given_up_at is not None
    stats = counters.callout_counts(callout.pk)
    assert (stats[counters.GIVEN_UP], stats["calls_errored"]) == (1, 1)
    assert_counters_match_rows(callout)


def test_a_manual_call_takes_a_given_up_participation_back_up():
    account = AccountFactory()
    callout = CalloutFactory(account=account)
    ContactFactory(account=account)
    _populate(_population(callout).pk)
    call = PhoneCall.objects.get(callout=callout)
    PhoneCall.objects.filter(pk=call.pk).update(status="queued")
    counters.call_moved(callout.pk, "created", "queued")
    dialling._record_create_result(call.pk, CreateResult(CreateOutcome.REJECTED, error_message="bad number"), None)

    phone_call_create(participation=CalloutParticipation.objects.get(callout=callout))

    assert CalloutParticipation.objects.get(callout=callout).given_up_at is None
    assert counters.callout_counts(callout.pk)[counters.GIVEN_UP] == 0
    assert_counters_match_rows(callout)


def test_squashing_keeps_the_totals_and_leaves_one_row_per_key():
    account = AccountFactory()
    callout = CalloutFactory(account=account)
    for _ in range(5):
        ContactFactory(account=account)
    _populate(_population(callout).pk)
    before = counters.callout_counts(callout.pk)

    counters.callout_counts_squash()

    assert counters.callout_counts(callout.pk) == before
    totals = CalloutCount.objects.filter(callout=callout, minute__isnull=True)
    assert totals.count() == totals.values("key").distinct().count()
    assert not totals.filter(is_squashed=False).exists()


def test_recount_repairs_counters_that_drifted():
    account = AccountFactory()
    callout = CalloutFactory(account=account)
    for _ in range(3):
        ContactFactory(account=account)
    _populate(_population(callout).pk)
    CalloutCount.objects.create(callout=callout, key=counters.PARTICIPATIONS, count=42)

    counters.callout_counts_recount(callout_ids=[callout.pk])

    assert counters.callout_counts(callout.pk)[counters.PARTICIPATIONS] == 3
    assert_counters_match_rows(callout)


def test_retention_deletes_old_series_minutes_but_never_totals(settings):
    settings.SCFM_SERIES_RETENTION_DAYS = 1
    callout = CalloutFactory()
    old = timezone.now() - timedelta(days=2)
    CalloutCount.objects.create(callout=callout, key="dialled", minute=counters.minute_of(old), count=1)
    CalloutCount.objects.create(callout=callout, key="dialled", minute=counters.minute_of(timezone.now()), count=1)
    CalloutCount.objects.create(callout=callout, key=counters.PARTICIPATIONS, count=1)

    assert counters.series_retention_apply()[0] == 1
    assert CalloutCount.objects.filter(callout=callout).count() == 2
