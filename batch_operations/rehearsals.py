"""Rehearsals: a copy of a callout (same call flow, audio, settings and participants) that dials through the
simulator whatever the account's provider, so staff can practise a warning without calling anyone (issue 14).

The copy is a new `initialized` callout flagged `is_rehearsal`, `rehearsal_of` the original; the original and its
participations are only read. Its participations are copied set-based in chunks of the original's participation ids
(INSERT ... SELECT, then one INSERT ... SELECT for their `created` calls, as a population does), inside one
transaction: a crash leaves no half copy. The simulator choice itself is `provider_for_call` in
phone_calls/providers/registry.py. Here (batch_operations) because it writes participations and phone calls, the
two apps below it.
"""

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from callouts import counters
from callouts.models import Callout, CalloutParticipation
from phone_calls.models import PhoneCall
from scfm.errors import DomainError

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
        f'FROM "{table}" AS p WHERE p.callout_id = %s AND p.id > %s AND p.id <= %s ORDER BY p.id'
    )


def _phone_call_sql() -> str:
    calls = PhoneCall._meta.db_table
    participations = CalloutParticipation._meta.db_table
    return (
        f'INSERT INTO "{calls}" (account_id, callout_id, callout_participation_id, contact_id, status, msisdn, '
        "call_flow_logic, metadata, remote_response, remote_queue_response, remote_request_params, duration, "
        "lock_version, created_at, updated_at) "
        "SELECT %s, p.callout_id, p.id, p.contact_id, %s, p.msisdn, p.call_flow_logic, '{}', '{}', '{}', '{}', 0, 0, "
        "p.created_at, p.updated_at "
        f'FROM "{participations}" AS p WHERE p.callout_id = %s AND p.id > %s'
    )


def _chunk_bounds(callout_id: int, size: int):
    """(low, high] id ranges of the callout's participations, `size` rows each (reads one id per chunk through the
    participations_callout_id_idx index)."""
    ids = CalloutParticipation.objects.filter(callout_id=callout_id).order_by("id").values_list("id", flat=True)
    low = 0
    while True:
        found = list(ids.filter(id__gt=low)[size - 1 : size])
        if not found:
            last = ids.filter(id__gt=low).order_by("-id").first()
            if last is not None:
                yield low, last
            return
        yield low, found[0]
        low = found[0]


@transaction.atomic
def callout_rehearsal_create(*, callout: Callout, created_by: User | None = None) -> Callout:
    """Make a rehearsal copy of `callout` (any status): an `initialized` callout with `is_rehearsal` true,
    `rehearsal_of` the original, the same call flow, audio (URL and uploaded file), settings and metadata, and one
    participation (with its one `created` call, as a population makes) per participation of the original. The
    original is not changed. Counters of the copy are kept (callouts/counters.py). Raises DomainError (a 422) for a
    callout that is a rehearsal itself. Starting it dials through the simulator only."""
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
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    participations = calls = 0
    with connection.cursor() as cursor:
        for low, high in _chunk_bounds(callout.pk, rehearsal_chunk_size()):
            newest = (
                CalloutParticipation.objects.filter(callout_id=rehearsal.pk)
                .order_by("-id")
                .values_list("id", flat=True)
                .first()
                or 0
            )
            cursor.execute(_participation_copy_sql(), [rehearsal.pk, False, now, now, callout.pk, low, high])
            participations += max(cursor.rowcount, 0)
            cursor.execute(_phone_call_sql(), [callout.account_id, PhoneCall.Status.CREATED, rehearsal.pk, newest])
            calls += max(cursor.rowcount, 0)
    counters.counts_add(
        rehearsal.pk, {counters.PARTICIPATIONS: participations, counters.CALL_KEYS[PhoneCall.Status.CREATED]: calls}
    )
    return rehearsal
