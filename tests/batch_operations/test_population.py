"""The population job: chunked, resumable, idempotent."""

import pytest

from batch_operations.callout_population import CalloutPopulation
from batch_operations.models import BatchOperation
from batch_operations.tasks import run_batch_operation
from callouts.models import CalloutParticipation
from phone_calls.models import PhoneCall
from tests.factories import AccountFactory, BatchOperationFactory, CalloutFactory, ContactFactory


@pytest.fixture
def small_chunks(settings):
    settings.SCFM_POPULATION_CHUNK_SIZE = 3


def queued_population(account, **parameters):
    return BatchOperationFactory(callout=CalloutFactory(account=account), parameters=parameters, queued=True)


def assert_population_complete(operation, contacts):
    participations = CalloutParticipation.objects.filter(callout=operation.callout)
    assert sorted(participations.values_list("contact_id", flat=True)) == sorted(c.pk for c in contacts)
    calls = PhoneCall.objects.filter(callout=operation.callout)
    assert sorted(calls.values_list("callout_participation_id", flat=True)) == sorted(
        participations.values_list("pk", flat=True)
    )
    assert set(participations.values_list("phone_calls_count", flat=True)) == {1}


def test_runs_in_chunks_across_sparse_ids(account, small_chunks):
    other = AccountFactory()
    contacts = []
    for index in range(10):
        contacts.append(ContactFactory(account=account, metadata={"n": index}))
        ContactFactory(account=other)
    operation = queued_population(account, contact_filter_params={"metadata": {"n.gteq": 2}})

    run_batch_operation(operation.pk)

    operation.refresh_from_db()
    assert operation.status == "finished"
    assert operation.processed_count == 8
    assert operation.started_at and operation.finished_at
    assert_population_complete(operation, contacts[2:])


def test_each_chunk_moves_the_cursor_and_the_count(account, small_chunks):
    contacts = [ContactFactory(account=account) for _ in range(7)]
    operation = queued_population(account)
    BatchOperation.objects.filter(pk=operation.pk).update(status="running")
    handler = CalloutPopulation()

    assert handler.populate_next_chunk(operation.pk, 3) is False
    operation.refresh_from_db()
    assert (operation.cursor, operation.processed_count) == (contacts[2].pk, 3)
    assert handler.populate_next_chunk(operation.pk, 3) is False
    assert handler.populate_next_chunk(operation.pk, 3) is True
    operation.refresh_from_db()
    assert operation.processed_count == 7
    assert_population_complete(operation, contacts)


def test_a_crashed_run_resumes_from_its_cursor_without_duplicates(account, small_chunks):
    contacts = [ContactFactory(account=account) for _ in range(8)]
    operation = queued_population(account)
    BatchOperation.objects.filter(pk=operation.pk).update(status="running")
    CalloutPopulation().populate_next_chunk(operation.pk, 3)  # then the worker died

    run_batch_operation(operation.pk)  # redelivered

    operation.refresh_from_db()
    assert (operation.status, operation.processed_count) == ("finished", 8)
    assert_population_complete(operation, contacts)


def test_a_redelivered_task_of_a_finished_operation_does_nothing(account):
    ContactFactory(account=account)
    operation = queued_population(account)
    run_batch_operation(operation.pk)
    ContactFactory(account=account)
    run_batch_operation(operation.pk)
    operation.refresh_from_db()
    assert operation.processed_count == 1
    assert CalloutParticipation.objects.count() == 1


def test_a_task_for_a_deleted_or_preview_operation_does_nothing(account):
    ContactFactory(account=account)
    operation = BatchOperationFactory(callout=CalloutFactory(account=account))
    run_batch_operation(operation.pk)
    run_batch_operation(operation.pk + 1000)
    assert not CalloutParticipation.objects.exists()


def test_requeue_of_a_running_operation_keeps_its_cursor(client_for, account, django_capture_on_commit_callbacks):
    contacts = [ContactFactory(account=account) for _ in range(4)]
    operation = queued_population(account)
    BatchOperation.objects.filter(pk=operation.pk).update(status="running")
    CalloutPopulation().populate_next_chunk(operation.pk, 2)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for.post(f"/api/batch_operations/{operation.pk}/batch_operation_events", {"event": "requeue"})
    assert response.status_code == 201
    operation.refresh_from_db()
    assert (operation.status, operation.processed_count) == ("finished", 4)
    assert_population_complete(operation, contacts)


def test_population_uses_metadata_operators(account):
    jan = ContactFactory(account=account, metadata={"gender": "f", "date_of_birth": "2022-01-15"})
    ContactFactory(account=account, metadata={"gender": "f", "date_of_birth": "2022-02-15"})
    ContactFactory(account=account, metadata={"gender": "f", "date_of_birth": "2022-01-20", "deregistered_at": "x"})
    ContactFactory(account=account, metadata={"gender": "m", "date_of_birth": "2022-01-15"})
    operation = queued_population(
        account,
        contact_filter_params={
            "metadata": {
                "gender": "f",
                "date_of_birth.date.gteq": "2022-01-01",
                "date_of_birth.date.lt": "2022-02-01",
                "deregistered_at.exists": False,
            }
        },
    )
    run_batch_operation(operation.pk)
    assert_population_complete(operation, [jan])


def test_created_timestamps_are_readable_by_the_orm(account):
    ContactFactory(account=account)
    operation = queued_population(account)
    run_batch_operation(operation.pk)
    participation = CalloutParticipation.objects.get()
    call = PhoneCall.objects.get()
    assert participation.created_at is not None
    assert call.created_at == participation.created_at
    assert CalloutParticipation.objects.filter(created_at__lte=participation.created_at).count() == 1
