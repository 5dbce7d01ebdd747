"""Resuming background jobs whose worker died: the scheduler's safety net for imports and batch operations.

A job's worker can die mid-run (kill -9, a lost machine). On Redis its message comes back only after the broker's
visibility timeout (an hour); a message lost with the file-system broker never comes back. Jobs that record their
progress on their row (`updated_at` moves with every chunk) and whose tasks are idempotent and resumable are
re-enqueued instead once their row has stood still for SCFM_STALLED_JOB_SECONDS (default 120 s).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone


def stalled_jobs_resume(busy: QuerySet, *, task, now=None) -> list[int]:
    """Re-enqueue `task(pk)` for every row of `busy` (jobs that are queued or running) whose `updated_at` is older
    than SCFM_STALLED_JOB_SECONDS; their `updated_at` is set to now, so a job is sent again at most once per stall
    period. Returns the ids sent. The task must be idempotent and resume from the row's recorded progress."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SCFM_STALLED_JOB_SECONDS)
    with transaction.atomic():
        stalled = list(busy.filter(updated_at__lt=cutoff).values_list("pk", flat=True)[:100])
        # the WHERE repeats the cutoff: two schedulers resuming at once send each job once
        sent = [pk for pk in stalled if busy.model.objects.filter(pk=pk, updated_at__lt=cutoff).update(updated_at=now)]
        transaction.on_commit(lambda: [task.delay(pk) for pk in sent])
    return sent
