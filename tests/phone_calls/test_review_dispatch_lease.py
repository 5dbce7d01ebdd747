"""The dispatch lease is held per loop, not per process: prefork children share the process-level WORKER_ID."""

import pytest
from django.utils import timezone

from phone_calls import dispatch, leases
from phone_calls.models import SchedulerLease
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_dispatch_makes_a_single_pass_and_keeps_the_lease_when_a_sibling_process_holds_it():
    account = AccountFactory()
    lease = f"dispatch:{account.pk}"
    # a sibling worker child (same hostname and inherited WORKER_ID) is looping for this account
    assert leases.lease_acquire(name=lease, seconds=60, owner=leases.WORKER_ID)
    dispatch.account_calls_dispatch(account_id=account.pk, hold_seconds=0)
    held = SchedulerLease.objects.get(name=lease)
    assert held.owner == leases.WORKER_ID
    assert held.expires_at > timezone.now()
