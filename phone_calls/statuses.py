"""Phone-call statuses, pure: the status enum, the status sets, the provider status table and the forward-only rule.

No model imports (models.py, status_callbacks.py and the provider adapters all read this module), so there is no
models <-> providers import circle.

- `PhoneCallStatus`: the API's own status strings.
- `ACTIVE_STATUSES` (an attempt that has not ended: waiting in `created` or in flight; the dialler's retries and the
  PhoneCallCreate batch add no call to a participation that has one), `IN_FLIGHT_STATUSES` (with the provider or
  about to be: they count against the account's in-flight cap, and a participation has at most one of them at a
  time — the partial unique index `phone_calls_one_in_flight_per_participation`; calls made by hand may wait in
  `created` beside it), `TERMINAL_STATUSES` (the attempt has ended; no report moves it again).
- `REMOTE_STATUS_TO_STATUS`: Twilio / Somleng `CallStatus` -> SCFM status (the providers' adapters use it).
- `status_for_remote_status`: where a call goes when the provider reports a `CallStatus`.
"""

from datetime import datetime, timedelta

from django.db.models import TextChoices


class PhoneCallStatus(TextChoices):
    CREATED = "created"
    QUEUED = "queued"
    REMOTELY_QUEUED = "remotely_queued"
    ERRORED = "errored"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NOT_ANSWERED = "not_answered"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"


ACTIVE_STATUSES = (
    PhoneCallStatus.CREATED,
    PhoneCallStatus.QUEUED,
    PhoneCallStatus.REMOTELY_QUEUED,
    PhoneCallStatus.IN_PROGRESS,
)
IN_FLIGHT_STATUSES = (PhoneCallStatus.QUEUED, PhoneCallStatus.REMOTELY_QUEUED, PhoneCallStatus.IN_PROGRESS)
TERMINAL_STATUSES = (
    PhoneCallStatus.COMPLETED,
    PhoneCallStatus.BUSY,
    PhoneCallStatus.NOT_ANSWERED,
    PhoneCallStatus.FAILED,
    PhoneCallStatus.CANCELED,
    PhoneCallStatus.ERRORED,
)
# progress order: a remote status may only move a call forward
STATUS_RANK: dict[str, int] = {
    PhoneCallStatus.CREATED: 0,
    PhoneCallStatus.QUEUED: 1,
    PhoneCallStatus.REMOTELY_QUEUED: 2,
    PhoneCallStatus.EXPIRED: 2,
    PhoneCallStatus.IN_PROGRESS: 3,
    **{status: 4 for status in TERMINAL_STATUSES},
}
EXPIRE_REMOTELY_QUEUED_AFTER = timedelta(hours=1)

# Twilio / Somleng CallStatus -> our status (both providers and the simulator speak this vocabulary).
# "queued" and "initiated" say nothing new: they leave the status alone (or expire a call after an hour).
REMOTE_STATUS_TO_STATUS = {
    "ringing": "in_progress",
    "in-progress": "in_progress",
    "answered": "in_progress",
    "busy": "busy",
    "failed": "failed",
    "no-answer": "not_answered",
    "canceled": "canceled",
    "completed": "completed",
}


def status_for_remote_status(
    current: str, remote_status: str | None, remotely_queued_at: datetime | None, now: datetime
) -> str:
    """Where a call goes when the provider reports `remote_status`: forward only, terminal states stay put."""
    if current in TERMINAL_STATUSES:
        return current
    remote_status = (remote_status or "").strip().lower()
    if remote_status in ("queued", "initiated"):
        stale = remotely_queued_at is not None and remotely_queued_at < now - EXPIRE_REMOTELY_QUEUED_AFTER
        if stale and current in (PhoneCallStatus.REMOTELY_QUEUED, PhoneCallStatus.IN_PROGRESS):
            return PhoneCallStatus.EXPIRED
        return current
    target = REMOTE_STATUS_TO_STATUS.get(remote_status)
    if target is None or target == current:
        return current
    if current == PhoneCallStatus.EXPIRED or STATUS_RANK[target] > STATUS_RANK[current]:
        return target
    return current
