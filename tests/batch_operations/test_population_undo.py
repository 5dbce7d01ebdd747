"""Undoing a population before the callout starts (issue 14): removes what it added, refuses once anyone was
dialled, keeps the counters right, works in chunks."""

import pytest

from batch_operations.models import BatchOperation
from batch_operations.population_undo import population_undo, population_undo_preview
from batch_operations.tasks import run_batch_operation
from callouts import counters
from callouts.models import Callout, CalloutParticipation
from phone_calls.models import PhoneCall
from scfm.errors import DomainError
from tests.factories import BatchOperationFactory, CalloutFactory, CalloutParticipationFactory, ContactFactory


@pytest.fixture
def populated(account, settings):
    settings.SCFM_POPULATION_CHUNK_SIZE = 3
    callout = CalloutFactory(account=account)
    for index in range(8):
        ContactFactory(account=account, metadata={"n": index})
    kept = CalloutParticipationFactory(callout=callout, contact=ContactFactory(account=account))
    operation = BatchOperationFactory(callout=callout, queued=True)
    run_batch_operation(operation.pk)
    operation.refresh_from_db()
    assert operation.processed_count == 8
    return operation, kept


def assert_counters_match(callout_id):
    assert counters.callout_counts(callout_id) == counters.counts_from_rows([callout_id]).get(
        callout_id, dict.fromkeys(counters.TOTAL_KEYS, 0)
    )


def test_undo_removes_the_participations_and_calls_it_added_in_chunks(populated):
    operation, kept = populated
    preview = population_undo_preview(batch_operation=operation)
    assert (preview.participations, preview.capped, preview.refusal) == (8, False, None)

    assert population_undo(batch_operation=operation) == 8

    assert list(CalloutParticipation.objects.filter(callout=operation.callout_id)) == [kept]
    assert not PhoneCall.objects.filter(callout=operation.callout_id).exists()
    assert not BatchOperation.objects.filter(pk=operation.pk).exists()
    assert_counters_match(operation.callout_id)


def test_undo_is_refused_once_a_participation_was_dialled(populated):
    operation, _kept = populated
    call = PhoneCall.objects.filter(callout=operation.callout_id).first()
    PhoneCall.objects.filter(pk=call.pk).update(status="completed", dispatched_at=call.created_at)

    assert population_undo_preview(batch_operation=operation).refusal
    with pytest.raises(DomainError) as error:
        population_undo(batch_operation=operation)
    assert "dialled" in error.value.errors["base"][0]
    assert CalloutParticipation.objects.filter(callout_population=operation).count() == 8


def test_undo_is_refused_after_the_callout_started(populated):
    operation, _kept = populated
    Callout.objects.filter(pk=operation.callout_id).update(status="running")
    with pytest.raises(DomainError) as error:
        population_undo(batch_operation=operation)
    assert "running" in error.value.errors["base"][0]


def test_undo_is_refused_while_the_population_runs(account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account), queued=True)
    with pytest.raises(DomainError):
        population_undo(batch_operation=operation)
    assert "queued" in population_undo_preview(batch_operation=operation).refusal


def test_undo_of_another_kind_of_batch_operation_is_refused(account):
    operation = BatchOperationFactory(callout=CalloutFactory(account=account), type="BatchOperation::PhoneCallCreate")
    with pytest.raises(DomainError):
        population_undo(batch_operation=operation)


def test_a_call_made_by_hand_beside_the_population_goes_with_it(populated):
    operation, _kept = populated
    participation = CalloutParticipation.objects.filter(callout_population=operation).first()
    from phone_calls.services import phone_call_create

    phone_call_create(participation=participation)
    assert population_undo(batch_operation=operation) == 8
    assert not PhoneCall.objects.filter(callout_participation=participation).exists()
    assert_counters_match(operation.callout_id)


def test_the_preview_count_is_capped(account, monkeypatch):
    import batch_operations.population_undo as module

    monkeypatch.setattr(module, "PREVIEW_CAP", 3)
    callout = CalloutFactory(account=account)
    for _ in range(5):
        ContactFactory(account=account)
    operation = BatchOperationFactory(callout=callout, queued=True)
    run_batch_operation(operation.pk)
    preview = population_undo_preview(batch_operation=operation)
    assert (preview.participations, preview.capped) == (3, True)
