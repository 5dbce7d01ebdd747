"""BatchOperation::CalloutPopulation: put the account's contacts that match `contact_filter_params` into a callout.

Each new participation gets the one `created` phone call the dispatcher dials (phone_calls_count 1). The work is
set-based SQL in chunks of contact ids: per chunk one transaction locks the operation row, runs one statement
(INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING for participations, feeding the INSERT of their phone
calls), and moves `cursor` and `processed_count` forward. A killed run resumes from the cursor; contacts already
in the callout are skipped by the unique constraints, so running again never duplicates and only adds who is
missing.
"""

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from callouts import counters
from callouts.models import CalloutParticipation
from contacts.filters import ContactFilter
from contacts.models import Contact
from phone_calls.models import PhoneCall
from scfm.query.filters import apply_filters

from .base import BatchOperationHandler
from .models import BatchOperation


def population_chunk_size() -> int:
    """Contacts per chunk (settings.SCFM_POPULATION_CHUNK_SIZE)."""
    return max(int(settings.SCFM_POPULATION_CHUNK_SIZE), 1)


def matching_contacts(account_id: int, parameters: dict) -> QuerySet[Contact]:
    """The account's contacts selected by parameters.contact_filter_params (the contacts `q[...]` language); every
    contact when it is absent or null. Bad filters (anything but a hash, `""` included) raise QueryError (a 422)
    keyed under contact_filter_params: a filter that can't be read never selects everyone."""
    filters = (parameters or {}).get("contact_filter_params")
    if filters is None:
        filters = {}
    return apply_filters(
        ContactFilter, filters, Contact.objects.filter(account_id=account_id), error_key="contact_filter_params"
    )


def _population_sql(contacts_sql: str) -> str:
    """One statement per chunk: the participations (ON CONFLICT DO NOTHING) and, from their RETURNING rows, their
    `created` calls; returns (participations added, calls created). One pass instead of a second statement that
    searched the participations just written."""
    participations = CalloutParticipation._meta.db_table
    calls = PhoneCall._meta.db_table
    return (
        f'WITH p AS (INSERT INTO "{participations}" (callout_id, contact_id, callout_population_id, msisdn, '
        "call_flow_logic, metadata, answered, phone_calls_count, created_at, updated_at) "
        "SELECT %s, c.id, %s, c.msisdn, %s, '{}', false, 1, %s, %s "
        f"FROM ({contacts_sql}) AS c WHERE 1 = 1 "
        "ON CONFLICT DO NOTHING "
        "RETURNING id, callout_id, contact_id, msisdn, call_flow_logic, created_at, updated_at), "
        f'c AS (INSERT INTO "{calls}" (account_id, callout_id, callout_participation_id, contact_id, status, msisdn, '
        "call_flow_logic, metadata, remote_response, remote_queue_response, remote_request_params, duration, "
        "lock_version, created_at, updated_at) "
        "SELECT %s, p.callout_id, p.id, p.contact_id, %s, p.msisdn, p.call_flow_logic, '{}', '{}', '{}', '{}', 0, 0, "
        "p.created_at, p.updated_at FROM p RETURNING 1) "
        "SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM c)"
    )


def _participation_sql(contacts_sql: str) -> str:
    """SQLite (laptop mode) has no data-modifying WITH: its chunk takes two statements, the participations, then
    their calls (`created_calls_sql`: those above the highest id before the chunk, stamped with its time)."""
    table = CalloutParticipation._meta.db_table
    return (
        f'INSERT INTO "{table}" (callout_id, contact_id, callout_population_id, msisdn, call_flow_logic, metadata, '
        "answered, phone_calls_count, created_at, updated_at) "
        "SELECT %s, c.id, %s, c.msisdn, %s, '{}', %s, 1, %s, %s "
        f"FROM ({contacts_sql}) AS c WHERE 1 = 1 "
        "ON CONFLICT DO NOTHING"
    )


def created_calls_sql(where: str) -> str:
    """INSERT ... SELECT of one `created` call for each participation `p` that `where` selects (parameters: the
    account id, the `created` status, then `where`'s own). Shared by population (on SQLite) and rehearsal copies."""
    calls = PhoneCall._meta.db_table
    participations = CalloutParticipation._meta.db_table
    return (
        f'INSERT INTO "{calls}" (account_id, callout_id, callout_participation_id, contact_id, status, msisdn, '
        "call_flow_logic, metadata, remote_response, remote_queue_response, remote_request_params, duration, "
        "lock_version, created_at, updated_at) "
        "SELECT %s, p.callout_id, p.id, p.contact_id, %s, p.msisdn, p.call_flow_logic, '{}', '{}', '{}', '{}', 0, 0, "
        f'p.created_at, p.updated_at FROM "{participations}" AS p WHERE {where}'
    )


def _insert_chunk_two_statements(
    cursor, contacts_sql: str, contacts_params, callout, operation, now
) -> tuple[int, int]:
    """The chunk on SQLite: (participations added, calls created)."""
    newest = CalloutParticipation.objects.order_by("-id").values_list("id", flat=True).first() or 0
    cursor.execute(
        _participation_sql(contacts_sql),
        [callout.pk, operation.pk, callout.call_flow_logic, False, now, now, *contacts_params],
    )
    added = max(cursor.rowcount, 0)
    if not added:
        return 0, 0
    cursor.execute(
        created_calls_sql("p.id > %s AND p.callout_population_id = %s AND p.created_at = %s"),
        [callout.account_id, PhoneCall.Status.CREATED, newest, operation.pk, now],
    )
    return added, max(cursor.rowcount, 0)


def _chunk_upper_bound(account_id: int, after: int, size: int) -> int | None:
    """The id of the size-th contact after `after`, or None when fewer are left (the last chunk)."""
    ids = Contact.objects.filter(account_id=account_id, id__gt=after).order_by("id").values_list("id", flat=True)
    found = list(ids[size - 1 : size])
    return found[0] if found else None


class CalloutPopulation(BatchOperationHandler):
    """Populates a callout from a contact filter (rest-api-current "Populate a Callout")."""

    type = BatchOperation.Type.CALLOUT_POPULATION
    settings_key = "batch_operation_callout_population_parameters"
    requires_callout = True
    filter_params = {"contact_filter_params": ContactFilter}

    def validate_parameters(self, *, account, callout, parameters: dict) -> None:
        matching_contacts(account.pk, parameters)

    def preview(self, operation, resource: str) -> QuerySet:
        if resource != "contacts":
            return super().preview(operation, resource)
        return self.contacts_to_add(operation)

    def contacts_to_add(self, operation) -> QuerySet[Contact]:
        """Matching contacts not yet in the callout (neither the contact nor its number)."""
        already_in = CalloutParticipation.objects.filter(callout_id=operation.callout_id).filter(
            Q(contact_id=OuterRef("pk")) | Q(msisdn=OuterRef("msisdn"))
        )
        return matching_contacts(operation.account_id, operation.parameters).filter(~Exists(already_in))

    def run(self, operation) -> None:
        size = population_chunk_size()
        while not self.populate_next_chunk(operation.pk, size):
            pass

    @transaction.atomic
    def populate_next_chunk(self, operation_id: int, size: int) -> bool:
        """Populate the next `size` contact ids after the cursor; True when there is nothing left."""
        operation = (
            BatchOperation.objects.select_for_update(of=("self",)).select_related("callout").get(pk=operation_id)
        )
        if operation.status != BatchOperation.Status.RUNNING:
            return True
        low = operation.cursor or 0
        high = _chunk_upper_bound(operation.account_id, low, size)
        contacts = matching_contacts(operation.account_id, operation.parameters).filter(id__gt=low)
        if high is not None:
            contacts = contacts.filter(id__lte=high)
        contacts_sql, contacts_params = contacts.values("id", "msisdn").query.sql_with_params()
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        callout = operation.callout
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                added, created = _insert_chunk_two_statements(
                    cursor, contacts_sql, contacts_params, callout, operation, now
                )
            else:
                cursor.execute(
                    _population_sql(contacts_sql),
                    [
                        callout.pk,
                        operation.pk,
                        callout.call_flow_logic,
                        now,
                        now,
                        *contacts_params,
                        callout.account_id,
                        PhoneCall.Status.CREATED,
                    ],
                )
                added, created = cursor.fetchone()
        if added:
            counters.counts_add(
                callout.pk, {counters.PARTICIPATIONS: added, counters.CALL_KEYS[PhoneCall.Status.CREATED]: created}
            )
        operation.processed_count += added
        if high is not None:
            operation.cursor = high
        operation.save(update_fields=["cursor", "processed_count", "updated_at"])
        return high is None
