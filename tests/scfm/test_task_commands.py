"""The task commands replay usage-and-tasks.md's quickstart: create, populate, start, enqueue, update, statistics."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from callouts.models import Callout
from phone_calls.management.commands.enqueue_calls import calls_to_enqueue
from phone_calls.models import PhoneCall
from tests.factories import AccountFactory, ContactFactory


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def simulated_account(db):
    return AccountFactory(
        platform_provider_name="simulator",
        settings={
            "from_phone_number": "1234",
            "phone_call_queue_limit": 200,
            "max_phone_calls_for_callout_participation": 3,
            "max_calls_per_second": 0,
            "simulator_outcomes": {"completed": 1},
            "simulator_delay_seconds": 0,
        },
    )


@pytest.mark.django_db(transaction=True)
def test_quickstart_sequence_calls_everyone(simulated_account, monkeypatch):
    for _ in range(5):
        ContactFactory(account=simulated_account)
    monkeypatch.setenv("CALLOUTS_TASK_CREATE_METADATA", '{"name": "flood warning"}')

    callout_id = int(run("callouts_create").strip().splitlines()[-1])
    assert Callout.objects.get(pk=callout_id).metadata == {"name": "flood warning"}
    assert "5 participations added" in run("callouts_populate", callout_id=callout_id)
    # no worker runs here: mark the callout running without the dispatcher's kick, as a cron-driven install would
    Callout.objects.filter(pk=callout_id).update(status="running")
    assert "enqueued 3 of 3" in run("enqueue_calls", max_calls=3)
    assert PhoneCall.objects.filter(callout_id=callout_id, status="created").count() == 2
    run("enqueue_calls")
    run("update_calls", min_age_seconds=0)
    statistics = run("callouts_statistics")
    assert "callout_participations_answered" in statistics
    calls = PhoneCall.objects.filter(callout_id=callout_id)
    assert calls.count() == 5
    assert set(calls.values_list("status", flat=True)) == {"completed"}


@pytest.mark.django_db(transaction=True)
def test_starting_a_callout_dials_its_calls(simulated_account):
    ContactFactory(account=simulated_account)
    callout_id = int(run("callouts_create").strip())
    run("callouts_populate", callout_id=callout_id)
    assert "is running" in run("callouts_run", action="start")
    assert PhoneCall.objects.get(callout_id=callout_id).status == "completed"
    assert "is paused" in run("callouts_run", action="pause")


def test_an_event_the_callout_cannot_take_is_an_error(simulated_account):
    Callout.objects.create(account=simulated_account, call_flow_logic="CallFlowLogic::HelloWorld")
    with pytest.raises(CommandError, match="cannot pause"):
        run("callouts_run", action="pause")


def test_several_callouts_need_an_id(simulated_account):
    for _ in range(2):
        Callout.objects.create(account=simulated_account, call_flow_logic="CallFlowLogic::HelloWorld")
    with pytest.raises(CommandError, match="--callout-id"):
        run("callouts_statistics")


def test_several_accounts_need_an_id(simulated_account):
    AccountFactory()
    with pytest.raises(CommandError, match="--account-id"):
        run("callouts_create")


@pytest.mark.parametrize(
    ("strategy", "max_calls", "waiting", "max_per_period", "in_period", "expected"),
    [
        ("optimistic", 30, 10, None, 0, 30),
        ("optimistic", None, 10, None, 0, 100),
        ("pessimistic", 30, 10, None, 0, 20),
        ("pessimistic", 30, 30, None, 0, 1),
        ("optimistic", 30, 0, 1000, 990, 10),
        ("optimistic", 30, 0, 1000, 1000, 0),
    ],
)
def test_enqueue_strategies(strategy, max_calls, waiting, max_per_period, in_period, expected):
    assert (
        calls_to_enqueue(
            strategy=strategy,
            max_calls=max_calls,
            due=100,
            waiting=waiting,
            pessimistic_min=1,
            max_per_period=max_per_period,
            in_period=in_period,
        )
        == expected
    )


# Commands run with another environment than `make run`'s. The family: a database without SCFM's tables (a fresh
# SCFM_DATA_DIR, another DATABASE_URL), one with tables but no account, and an account with several callouts; each
# command says which and what to do, never a traceback.
COMMANDS = [
    ["callouts_create"],
    ["callouts_populate"],
    ["callouts_run", "--action", "start"],
    ["callouts_statistics"],
    ["enqueue_calls"],
    ["update_calls"],
    ["import_contacts", "--account-id", "1", "contacts.csv"],
]


def test_commands_on_a_database_without_tables_say_so_without_a_traceback(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "contacts.csv").write_text("msisdn\n+252662345678\n")
    environment = {**os.environ, "SCFM_DATA_DIR": str(tmp_path / "data")}
    environment.pop("DATABASE_URL", None)
    manage = Path(__file__).resolve().parents[2] / "manage.py"
    for command in COMMANDS:
        done = subprocess.run(
            [sys.executable, str(manage), *command],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, (command, done.stderr)
        assert "Traceback" not in done.stderr, (command, done.stderr)
        assert "has no SCFM tables" in done.stderr and "same environment as `make run`" in done.stderr, command


@pytest.mark.parametrize("command", [command for command in COMMANDS if command[0] != "import_contacts"])
def test_commands_on_a_database_without_an_account_say_so(db, command):
    with pytest.raises(CommandError, match="there is no account in .*same environment as `make run`"):
        call_command(*command, stdout=StringIO())


def test_several_callouts_are_named_with_their_ids(simulated_account):
    callouts = [
        Callout.objects.create(account=simulated_account, call_flow_logic="CallFlowLogic::HelloWorld") for _ in range(2)
    ]
    with pytest.raises(CommandError, match=f"several callouts \\(ids {callouts[0].pk}, {callouts[1].pk}\\)"):
        run("callouts_run", action="start")
