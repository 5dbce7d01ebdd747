"""Named, expiring leases (SchedulerLease rows): one scheduler tick at a time, one dispatch loop per account.

A lease is a row keyed by name; taking it is one conditional UPDATE (expired, or already ours), so any number of
workers can race for it safely.
"""

import os
import socket
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from .models import SchedulerLease

# this process (host:pid); prefork children inherit it from the parent, so a loop adds its own suffix (dispatch.py)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def lease_acquire(*, name: str, seconds: float, owner: str = WORKER_ID) -> bool:
    """Take (or extend) the named lease for `seconds` unless someone else holds an unexpired one; True if taken."""
    now = timezone.now()
    SchedulerLease.objects.bulk_create([SchedulerLease(name=name, expires_at=now)], ignore_conflicts=True)
    taken = SchedulerLease.objects.filter(Q(expires_at__lte=now) | Q(owner=owner), name=name).update(
        owner=owner, expires_at=now + timedelta(seconds=seconds)
    )
    return taken == 1


def lease_release(*, name: str, owner: str = WORKER_ID) -> None:
    """Let the named lease go now, if `owner` holds it."""
    SchedulerLease.objects.filter(name=name, owner=owner).update(expires_at=timezone.now())
