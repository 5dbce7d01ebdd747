"""The status-callback fast path: a provider's status report on a call we dialled, applied in two statements.

Status callbacks (ringing, answered, completed: several per call, arriving at the rate calls end) are the webhook's
bulk. They run no IVR and need no account settings, so on PostgreSQL they skip the locked path of remote_events:
the call is read, its next state worked out by the same pure rule (`status_for_remote_status`), and one statement
writes the call, the event and, on `completed`, the participation's answered flag: one transaction, one WAL flush,
no lock held across round trips. The same statement inserts the callout's counter rows (callouts/counters.py) for
the status change and the answer. Both statements are prepared once per connection (scfm.db.fetch_one_prepared).

The write is conditional on the call still being as it was read (status, remote status, queue time and
lock_version), so a concurrent callback, poll or dispatcher update makes it miss instead of being overwritten: the
callback is then read and applied again. Everything else returns None and takes the locked path: a call we do not
know by CallSid (inbound, or not yet stamped), another account's call, an outcome that schedules a retry, a call
whose flow is no longer registered, or a database other than PostgreSQL.
"""

import json

from django.db import connection
from django.utils import timezone

from call_flow_logic.registry import flow_class_for
from callouts import counters
from callouts.models import CalloutCount, CalloutParticipation
from scfm.db import fetch_one_prepared, is_postgresql

from .lifecycle import seconds
from .models import PhoneCall, RemotePhoneCallEvent
from .selectors import CallState
from .statuses import TERMINAL_STATUSES, PhoneCallStatus, status_for_remote_status

ATTEMPTS = 3  # writes missed to concurrent changes before the callback takes the locked path

READ_CALL = f"""
SELECT {", ".join(CallState._fields)}
FROM {PhoneCall._meta.db_table} WHERE remote_call_id = %(sid)s AND account_id = %(account_id)s
"""

WRITE_CALL_AND_EVENT = f"""
WITH updated AS (
    UPDATE {PhoneCall._meta.db_table} SET
        status = %(status)s,
        remote_status = COALESCE(%(remote_status)s, remote_status),
        duration = CASE WHEN %(duration)s > 0 THEN %(duration)s ELSE duration END,
        remote_direction = COALESCE(NULLIF(remote_direction, ''), %(direction)s, remote_direction),
        lock_version = lock_version + 1,
        updated_at = %(now)s
    WHERE id = %(id)s AND lock_version = %(lock_version)s AND status = %(read_status)s
        AND remote_status IS NOT DISTINCT FROM %(read_remote_status)s
        AND remotely_queued_at IS NOT DISTINCT FROM %(read_remotely_queued_at)s
    RETURNING id, callout_participation_id, callout_id
), answered AS (
    UPDATE {CalloutParticipation._meta.db_table} SET answered = TRUE, updated_at = %(now)s
    WHERE %(answered)s AND id = (SELECT callout_participation_id FROM updated) AND NOT answered
    RETURNING callout_id
), counted AS (
    INSERT INTO {CalloutCount._meta.db_table} (callout_id, key, minute, count, is_squashed)
    SELECT u.callout_id, d.key, d.minute, d.delta, FALSE
    FROM updated AS u CROSS JOIN unnest(%(count_keys)s::varchar[], %(count_minutes)s::timestamptz[],
        %(count_deltas)s::bigint[]) AS d(key, minute, delta)
    WHERE u.callout_id IS NOT NULL
    UNION ALL
    SELECT a.callout_id, %(answered_key)s, m.minute, 1, FALSE
    FROM answered AS a CROSS JOIN (VALUES (NULL::timestamptz), (%(minute)s::timestamptz)) AS m(minute)
)
INSERT INTO {RemotePhoneCallEvent._meta.db_table}
    (phone_call_id, details, metadata, remote_call_id, remote_direction, call_flow_logic, call_duration,
     created_at, updated_at)
SELECT id, %(details)s::jsonb, '{{}}'::jsonb, %(sid)s, %(direction_text)s, %(flow)s, %(duration)s, %(now)s, %(now)s
FROM updated
RETURNING id
"""


def _next_write(call: CallState, params: dict, now) -> dict | None:
    """The parameters of WRITE_CALL_AND_EVENT for `call`, or None when the locked path must handle it."""
    if not flow_class_for(call.call_flow_logic):
        return None
    terminal = call.status in TERMINAL_STATUSES
    reported = params.get("CallStatus") or None
    remote_status = None if terminal else reported
    status = status_for_remote_status(call.status, remote_status or call.remote_status, call.remotely_queued_at, now)
    ends_attempt = status != call.status and status in TERMINAL_STATUSES
    if ends_attempt and status != PhoneCallStatus.COMPLETED and call.callout_participation_id:
        return None  # a retry may be due: the locked path reads the account's retry policy
    if call.callout_participation_id and status != call.status and PhoneCallStatus.EXPIRED in (status, call.status):
        return None  # expiring gives the participation up, an expired call answering takes that back: locked path
    moves = counters.call_move_rows(call.status, status, now)
    direction = str(params.get("Direction") or "")
    return {
        "id": call.id,
        "lock_version": call.lock_version,
        "read_status": call.status,
        "read_remote_status": call.remote_status,
        "read_remotely_queued_at": call.remotely_queued_at,
        "status": status,
        "remote_status": remote_status,
        "duration": seconds(params.get("CallDuration")),
        "direction": direction or None,
        "direction_text": direction,
        "answered": ends_attempt and status == PhoneCallStatus.COMPLETED,
        "flow": call.call_flow_logic,
        "sid": params["CallSid"],
        "details": json.dumps(params),
        "now": now,
        "count_keys": [key for key, _minute, _delta in moves],
        "count_minutes": [minute for _key, minute, _delta in moves],
        "count_deltas": [delta for _key, _minute, delta in moves],
        "answered_key": counters.ANSWERED,
        "minute": counters.minute_of(now),
    }


def status_callback_apply(
    *, account_id: int, params: dict, call: CallState | None = None
) -> RemotePhoneCallEvent | None:
    """Apply a status callback for a known call of the account and store its event; None if the locked path must.

    `call` is the call's state when the caller has read it already (the webhook reads it with the account).
    """
    if not is_postgresql(connection):
        return None
    for _attempt in range(ATTEMPTS):
        if call is None:
            row = fetch_one_prepared(READ_CALL, {"sid": params["CallSid"], "account_id": account_id})
            if row is None:
                return None
            call = CallState(*row)
        write = _next_write(call, params, timezone.now())
        if write is None:
            return None
        stored = fetch_one_prepared(WRITE_CALL_AND_EVENT, write)
        if stored is not None:
            return RemotePhoneCallEvent(
                id=stored[0],
                phone_call_id=write["id"],
                details=params,
                remote_call_id=write["sid"],
                remote_direction=write["direction_text"],
                call_flow_logic=write["flow"],
                call_duration=write["duration"],
                created_at=write["now"],
                updated_at=write["now"],
            )
        call = None  # changed since it was read: read it again
    return None
