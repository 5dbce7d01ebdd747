"""Tasks for an account, call or recording that no longer exists finish quietly (issue 11, 7c).

The family: every phone_calls task that takes an id (dispatch_account_calls: an account; queue_remote_call,
fetch_remote_call, simulate_call_outcome: a phone call; recording_audio_fetch_task: a recording), given an id that
was deleted after the task was enqueued (or never existed). Each finishes without raising, with one INFO log line
naming the id and no traceback.
"""

import logging

import pytest

from phone_calls import tasks
from tests.factories import AccountFactory, PhoneCallFactory

GONE_ID = 987_654_321

TASKS = [
    (tasks.dispatch_account_calls, "account"),
    (tasks.queue_remote_call, "phone call"),
    (tasks.fetch_remote_call, "phone call"),
    (tasks.simulate_call_outcome, "phone call"),
    (tasks.recording_audio_fetch_task, "recording"),
]


def _phone_calls_records(caplog):
    return [record for record in caplog.records if record.name.startswith("phone_calls")]


@pytest.mark.parametrize("task, what", TASKS, ids=[task.name.rsplit(".", 1)[-1] for task, _ in TASKS])
def test_task_for_a_record_that_no_longer_exists_finishes_quietly(db, caplog, task, what):
    caplog.set_level(logging.INFO)
    result = task.apply(args=[GONE_ID])
    assert result.successful()
    records = _phone_calls_records(caplog)
    assert len(records) == 1, [record.getMessage() for record in records]
    (record,) = records
    assert record.levelno == logging.INFO and record.exc_info is None
    assert what in record.getMessage() and str(GONE_ID) in record.getMessage()
    assert "no longer exists" in record.getMessage()


def test_dispatch_of_a_deleted_account_writes_nothing(db, caplog):
    account = AccountFactory()
    account_id = account.pk
    account.delete()
    caplog.set_level(logging.INFO)
    assert tasks.dispatch_account_calls.apply(args=[account_id]).result == 0
    from phone_calls.models import DispatchState

    assert not DispatchState.objects.filter(account_id=account_id).exists()


def test_dialling_a_deleted_call_finishes_quietly(db, caplog):
    call = PhoneCallFactory()
    call_id = call.pk
    call.delete()
    caplog.set_level(logging.INFO)
    assert tasks.queue_remote_call.apply(args=[call_id]).successful()
    assert [record.levelno for record in _phone_calls_records(caplog)] == [logging.INFO]
