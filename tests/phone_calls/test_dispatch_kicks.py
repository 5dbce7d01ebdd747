"""Scheduler ticks and dispatch kicks never pile up in the broker: one pending dispatch per account, and a tick
that waited longer than one interval is dropped."""

from datetime import timedelta

import pytest
from django.utils import timezone

from phone_calls import tasks
from phone_calls.models import SchedulerLease
from tests.factories import AccountFactory


@pytest.fixture
def sent(monkeypatch):
    """Tasks go to a broker (not inline); what is sent is recorded instead of delivered."""
    from scfm.celery import app

    messages = []
    app.conf.task_always_eager = False  # the autouse _tasks_run_inline fixture sets it back
    monkeypatch.setattr(app, "send_task", lambda name, args=None, kwargs=None, **options: messages.append((name, args)))
    return messages


def test_a_kick_is_not_enqueued_when_a_dispatch_of_the_account_is_pending(db, sent):
    account, other = AccountFactory(), AccountFactory()

    for _ in range(3):
        tasks.dispatch_account_calls.delay(account.pk)
    tasks.dispatch_account_calls.delay(other.pk)

    assert sent == [
        ("phone_calls.tasks.dispatch_account_calls", (account.pk,)),
        ("phone_calls.tasks.dispatch_account_calls", (other.pk,)),
    ]


def test_a_kick_is_enqueued_again_once_the_pending_dispatch_started(db, sent):
    account = AccountFactory()
    tasks.dispatch_account_calls.delay(account.pk)

    tasks.dispatch_account_calls(account.pk)  # the worker runs the pending one
    tasks.dispatch_account_calls.apply_async((account.pk,))

    assert len(sent) == 2


def test_a_kick_is_enqueued_again_when_the_pending_one_was_lost(db, sent):
    account = AccountFactory()
    tasks.dispatch_account_calls.delay(account.pk)
    # its message never arrived; the mark runs out
    SchedulerLease.objects.filter(name=f"dispatch-pending:{account.pk}").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    tasks.dispatch_account_calls.delay(account.pk)

    assert len(sent) == 2


def test_scheduler_ticks_kick_each_account_once_while_its_dispatch_is_pending(db, sent, monkeypatch):
    account = AccountFactory()
    monkeypatch.setattr(tasks.callout_selectors, "accounts_with_running_callouts", lambda: [account.pk])

    for _ in range(5):
        tasks.scheduler_tick()
        SchedulerLease.objects.filter(name=tasks.SCHEDULER_LEASE).delete()  # the next tick comes an interval later

    assert sent.count(("phone_calls.tasks.dispatch_account_calls", (account.pk,))) == 1


def test_a_scheduler_tick_expires_after_one_interval(settings):
    from scfm.celery import app

    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["phone-calls-scheduler-tick"]

    assert entry["options"]["expires"] == entry["schedule"] == settings.SCFM_SCHEDULER_INTERVAL
