"""Celery wrappers of the callout counters' upkeep (callouts/counters.py), both on the `scheduler` queue and run by
celery beat (scfm/celery.py): `callout_counts_squash` every SCFM_COUNTS_SQUASH_INTERVAL seconds (default 10) and
`callout_series_retention` every hour. Each holds a lease, so two schedulers never overlap."""

import uuid

from celery import shared_task

from phone_calls.leases import WORKER_ID, lease_acquire, lease_release

from . import counters

SQUASH_LEASE = "callout_counts_squash"
RETENTION_LEASE = "callout_series_retention"
MAX_SQUASH_PASSES = 20


@shared_task(name="callouts.tasks.callout_counts_squash", acks_late=True, ignore_result=True)
def callout_counts_squash() -> int:
    """Squash the counter rows of callouts that changed since the last pass; returns squashed rows written."""
    owner = f"{WORKER_ID}:{uuid.uuid4().hex}"  # prefork children share WORKER_ID
    if not lease_acquire(name=SQUASH_LEASE, seconds=120, owner=owner):
        return 0
    written = 0
    try:
        for _ in range(MAX_SQUASH_PASSES):
            written += counters.callout_counts_squash()
            if not counters.callout_counts_unsquashed():
                break
    finally:
        lease_release(name=SQUASH_LEASE, owner=owner)
    return written


@shared_task(name="callouts.tasks.callout_series_retention", acks_late=True, ignore_result=True)
def callout_series_retention() -> tuple[int, int]:
    """Delete series minutes and remote phone call events past SCFM_SERIES_RETENTION_DAYS."""
    owner = f"{WORKER_ID}:{uuid.uuid4().hex}"
    if not lease_acquire(name=RETENTION_LEASE, seconds=3600, owner=owner):
        return 0, 0
    try:
        return counters.series_retention_apply()
    finally:
        lease_release(name=RETENTION_LEASE, owner=owner)
