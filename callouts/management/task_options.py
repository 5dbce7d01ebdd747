"""Shared plumbing of the task commands (usage-and-tasks.md's rake tasks): account and callout resolution,
options that fall back to the documented environment variables, and inline task execution.

Used by the callouts_* commands here and by phone_calls' enqueue_calls / update_calls. Errors are CommandError.
"""

import json
import os
from contextlib import contextmanager

from django.core.management.base import CommandError
from django.db import DatabaseError

from accounts.models import Account
from accounts.selectors import account_get, account_ids
from callouts.models import Callout
from callouts.selectors import callout_list
from scfm.db import SAME_ENVIRONMENT, database_name, no_tables_message


def env(name: str, default=None):
    """The environment variable `name`, or `default` when it is unset or empty."""
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_json(name: str, default=None):
    """The environment variable `name` parsed as JSON, or `default`; CommandError when it is not JSON."""
    raw = env(name)
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except ValueError as error:
        raise CommandError(f"{name} is not valid JSON: {error}") from None


def env_int(name: str, default=None):
    """The environment variable `name` as an int, or `default`; CommandError when it is not an integer."""
    raw = env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise CommandError(f"{name} must be an integer, got {raw!r}") from None


def add_account_argument(parser) -> None:
    """`--account-id N` (default: env SCFM_ACCOUNT_ID), for resolve_account."""
    parser.add_argument(
        "--account-id",
        type=int,
        default=env_int("SCFM_ACCOUNT_ID"),
        help="account to act on (env SCFM_ACCOUNT_ID; default: the only account)",
    )


def resolve_account(account_id: int | None) -> Account:
    """The account with `account_id`, or the only account when it is None; CommandError otherwise, also when the
    database has no tables or no account (a command run with another environment than `make run`'s)."""
    try:
        if account_id is not None:
            account = account_get(account_id=account_id)
            if account is None:
                raise CommandError(f"account {account_id} does not exist in {database_name()}")
            return account
        accounts = account_ids(limit=11)
    except DatabaseError as error:
        raise CommandError(no_tables_message(error)) from None
    if not accounts:
        raise CommandError(
            f"there is no account in {database_name()}: {SAME_ENVIRONMENT}; `make run` (or `python manage.py "
            "bootstrap`) creates the first account"
        )
    if len(accounts) > 1:
        raise CommandError(
            f"there is not exactly one account (ids {_ids(accounts)}): pass --account-id (or set SCFM_ACCOUNT_ID)"
        )
    return resolve_account(accounts[0])


def _ids(ids: list[int]) -> str:
    """Up to ten ids, comma-separated ("..." when there are more)."""
    return ", ".join(str(pk) for pk in ids[:10]) + (", ..." if len(ids) > 10 else "")


def add_callout_argument(parser) -> None:
    """`--callout-id N` (default: env CALLOUTS_TASK_CALLOUT_ID), for resolve_callout."""
    parser.add_argument(
        "--callout-id",
        type=int,
        default=env_int("CALLOUTS_TASK_CALLOUT_ID"),
        help="callout to act on (env CALLOUTS_TASK_CALLOUT_ID; default: the account's only callout)",
    )


def resolve_callout(account: Account, callout_id: int | None) -> Callout:
    """The account's callout `callout_id`, or its only callout when it is None; CommandError otherwise."""
    callouts = callout_list(account=account)
    if callout_id is not None:
        callout = callouts.filter(pk=callout_id).first()
        if callout is None:
            raise CommandError(f"callout {callout_id} does not exist in account {account.pk}")
        return callout
    found = list(callouts.order_by("pk")[:11])
    if not found:
        raise CommandError(f"account {account.pk} has no callout: create one (callouts_create prints its id)")
    if len(found) > 1:
        raise CommandError(
            f"account {account.pk} has several callouts (ids {_ids([c.pk for c in found])}): pass --callout-id "
            "(or set CALLOUTS_TASK_CALLOUT_ID), e.g. the id callouts_create printed"
        )
    return found[0]


@contextmanager
def tasks_inline():
    """Run the Celery tasks a command triggers in-process, as the original rake tasks did."""
    from scfm.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous
