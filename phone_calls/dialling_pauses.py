"""Pausing an account's dialling while the provider refuses the account itself, and probing until it may resume.

When the provider answers a create request with the account's fault (providers/base.py: CreateOutcome.ACCOUNT_FAULT,
e.g. a wrong auth token, a suspended account, no funds, the API unreachable), the call goes back to `created`
without using an attempt and `account_dialling_pause` records why on the account (`dialling_paused_reason`, shown on
its callouts and their statistics). While paused, the dispatcher (dispatch.phone_calls_claim) claims nothing except,
every PROBE_INTERVAL seconds, one call: the probe (`account_dialling_probe_take`). A probe the provider accepts, or
refuses for the number's own fault, resumes dialling (`account_dialling_resume`); one that fails for the account's
fault keeps the pause. Changing the account's credentials asks for a probe at once (`account_dialling_probe_now`,
on the accounts app's `account_provider_changed` signal, connected in apps.py).

Every write is one conditional UPDATE of the account row, so concurrent diallers cannot undo each other.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account

PROBE_INTERVAL = timedelta(seconds=60)
REASON_MAX_LENGTH = 1000


def account_dialling_pause(*, account_id: int, reason: str, now: datetime | None = None) -> bool:
    """Pause the account's dialling (or keep it paused) with `reason`; the next probe is PROBE_INTERVAL after the
    pause began. True when this call started the pause."""
    now = now or timezone.now()
    reason = (reason or "the provider refused the account")[:REASON_MAX_LENGTH]
    started = Account.objects.filter(pk=account_id, dialling_paused_at__isnull=True).update(
        dialling_paused_at=now, dialling_paused_reason=reason, dialling_probe_at=now + PROBE_INTERVAL
    )
    if not started:
        Account.objects.filter(pk=account_id).update(dialling_paused_reason=reason)
    return bool(started)


def account_dialling_resume(*, account_id: int) -> bool:
    """End the account's pause (a probe got through); kicks its dispatcher after commit. True when it was paused."""
    from .dispatch import account_dispatch_kick

    resumed = Account.objects.filter(pk=account_id, dialling_paused_at__isnull=False).update(
        dialling_paused_at=None, dialling_paused_reason=None, dialling_probe_at=None
    )
    if resumed:
        transaction.on_commit(lambda: account_dispatch_kick(account_id))
    return bool(resumed)


def account_dialling_probe_take(*, account_id: int, now: datetime | None = None) -> bool:
    """For a paused account: True when a probe is due now, and the next one is set PROBE_INTERVAL later (so only
    one caller gets it)."""
    now = now or timezone.now()
    due = Q(dialling_probe_at__isnull=True) | Q(dialling_probe_at__lte=now)
    taken = Account.objects.filter(due, pk=account_id, dialling_paused_at__isnull=False).update(
        dialling_probe_at=now + PROBE_INTERVAL
    )
    return bool(taken)


def account_dialling_probe_now(*, account_id: int) -> None:
    """The account's credentials changed: if its dialling is paused, probe at once (kicks its dispatcher after
    commit)."""
    from .dispatch import account_dispatch_kick

    if Account.objects.filter(pk=account_id, dialling_paused_at__isnull=False).update(dialling_probe_at=None):
        transaction.on_commit(lambda: account_dispatch_kick(account_id))


def account_provider_changed_receive(sender, *, account_id: int, **kwargs) -> None:
    """accounts.signals.account_provider_changed: new credentials or provider address, so probe at once."""
    account_dialling_probe_now(account_id=account_id)
