"""Rehearsals: a copy of a callout (same call flow, audio, settings and participants) that dials through the
simulator whatever the account's provider, so staff can practise a warning without calling anyone (issue 14).

`callout_rehearsal_create` makes the copy: a new `initialized` callout flagged `is_rehearsal`, `rehearsal_of` the
original (which is only read), and queues the copy of its participations (the `copy_rehearsal` task, after commit).
`callout_rehearsal_copy` copies them set-based in chunks of the original's participation ids, one transaction per
chunk (INSERT ... SELECT ... ON CONFLICT DO NOTHING, then one INSERT ... SELECT for their `created` calls, as a
population does, with the counters), moving `rehearsal_copy_cursor` (the last original id copied; null when done).
A killed copy resumes from the cursor (batch_operations_resume_stalled sends the task again once the row has stood
still), so a 1,000,000-participation callout is copied in the background, not in the request. Starting the
rehearsal before the copy ends is harmless: its calls only ever reach the simulator, and those copied later are
dialled as they arrive. The simulator choice itself is `provider_for_call` in phone_calls/providers/registry.py.
Here (batch_operations) because it writes participations and phone calls, the two apps below it.
"""

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from callouts import counters
from callouts.models import Callout, CalloutParticipation
from phone_calls.models import PhoneCall
from scfm.errors import DomainError

from .callout_population import created_calls_sql

_LAST_ID = 2**63 - 1  # the upper bound of the last chunk
ALREADY_A_REHEARSAL = DomainError({"callout": ["is a rehearsal already: rehearse the real callout"]})


def rehearsal_chunk_size() -> int:
    """Participations copied per statement (settings.SCFM_POPULATION_CHUNK_SIZE, as populations)."""
    return max(int(settings.SCFM_POPULATION_CHUNK_SIZE), 1)


def _participation_copy_sql() -> str:
    table = CalloutParticipation._meta.db_table
    return (
        f'INSERT INTO "{table}" (callout_id, contact_id, callout_population_id, msisdn, call_flow_logic, metadata, '
        "answered, phone_calls_count, created_at, updated_at) "
        "SELECT %s, p.contact_id, NULL, p.msisdn, p.call_flow_logic, p.metadata, %s, 1, %s, %s "
        f'FROM "{table}" AS p WHERE p.callout_id = %s AND p.id > %s AND p.id <= %s ORDER BY p.id '
        "ON CONFLICT DO NOTHING"
    )


def _enqueue_copy(rehearsal_id: int) -> None:
    from .tasks import copy_rehearsal

    copy_rehearsal.delay(rehearsal_id)


@transaction.atomic
def callout_rehearsal_create(*, callout: Callout, created_by: User | None = None) -> Callout:
    """Make a rehearsal copy of `callout` (any status): an `initialized` callout with `is_rehearsal` true,
    `rehearsal_of` the original, the same call flow, audio (URL and uploaded file), settings and metadata; its
    participations (one per participation of the original, each with one `created` call) are copied by the
    `copy_rehearsal` task queued after commit (`rehearsal_copy_cursor` is 0 until then, null once done). The
    original is not changed. Raises DomainError (a 422) for a callout that is a rehearsal itself. Starting it dials
    through the simulator only."""
    if callout.is_rehearsal:
        raise ALREADY_A_REHEARSAL
    rehearsal = Callout.objects.create(
        account_id=callout.account_id,
        call_flow_logic=callout.call_flow_logic,
        audio_url=callout.audio_url,
        audio_file=callout.audio_file.name if callout.audio_file else None,
        settings=callout.settings,
        metadata=callout.metadata,
        created_by=created_by,
        is_rehearsal=True,
        rehearsal_of=callout,
        rehearsal_copy_cursor=0,
    )
    transaction.on_commit(lambda: _enqueue_copy(rehearsal.pk))
    return rehearsal


def _chunk_upper_bound(callout_id: int, after: int, size: int) -> int | None:
    """The id of the size-th participation of the callout after `after`, or None when fewer are left (the last
    chunk); one read through participations_callout_id_idx."""
    ids = CalloutParticipation.objects.filter(callout_id=callout_id, id__gt=after).order_by("id")
    found = list(ids.values_list("id", flat=True)[size - 1 : size])
    return found[0] if found else None


@transaction.atomic
def _copy_next_chunk(rehearsal_id: int, size: int) -> bool:
    """Copy the next `size` participations of the original after the cursor; True when the copy is done."""
    rehearsal = Callout.objects.select_for_update().filter(pk=rehearsal_id).first()
    if rehearsal is None or rehearsal.rehearsal_copy_cursor is None:
        return True
    low = rehearsal.rehearsal_copy_cursor
    original_id = rehearsal.rehearsal_of_id
    high = _chunk_upper_bound(original_id, low, size) if original_id else None
    if original_id:
        newest = (
            CalloutParticipation.objects.filter(callout_id=rehearsal.pk).order_by("-id").values_list("id", flat=True)
        ).first() or 0
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        upper = high if high is not None else _LAST_ID
        with connection.cursor() as cursor:
            cursor.execute(_participation_copy_sql(), [rehearsal.pk, False, now, now, original_id, low, upper])
            participations = max(cursor.rowcount, 0)
            calls = 0
            if participations:
                cursor.execute(
                    created_calls_sql("p.callout_id = %s AND p.id > %s AND p.created_at = %s"),
                    [rehearsal.account_id, PhoneCall.Status.CREATED, rehearsal.pk, newest, now],
                )
                calls = max(cursor.rowcount, 0)
        counters.counts_add(
            rehearsal.pk,
            {counters.PARTICIPATIONS: participations, counters.CALL_KEYS[PhoneCall.Status.CREATED]: calls},
        )
    rehearsal.rehearsal_copy_cursor = high
    rehearsal.save(update_fields=["rehearsal_copy_cursor", "updated_at"])
    return high is None


def callout_rehearsal_copy(*, rehearsal_id: int) -> Callout | None:
    """Copy (or resume copying) a rehearsal's participations from its original, chunk by chunk; a no-op once the
    copy is done, so a redelivered task is harmless. Returns the rehearsal (None if it is gone)."""
    size = rehearsal_chunk_size()
    while not _copy_next_chunk(rehearsal_id, size):
        pass
    return Callout.objects.filter(pk=rehearsal_id).first()
