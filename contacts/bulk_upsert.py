"""Bulk upsert of contacts: one set-based statement per chunk of {msisdn: metadata}, metadata merged into the
stored contact's (`||` on PostgreSQL, json_patch on SQLite), returning how many rows were new."""

from django.db import connection
from django.utils import timezone

from scfm.db import dumps, is_postgresql

from .models import Contact

SQLITE_BATCH = 2_000


def _upsert_postgresql(cursor, account_id: int, rows: dict[str, dict], now) -> int:
    table = Contact._meta.db_table
    cursor.execute(
        f"""
        WITH upserted AS (
            INSERT INTO {table} AS c (account_id, msisdn, metadata, created_at, updated_at)
            SELECT %s, t.key, t.value, %s, %s FROM jsonb_each(%s::jsonb) AS t
            ON CONFLICT (account_id, msisdn)
            DO UPDATE SET metadata = c.metadata || EXCLUDED.metadata, updated_at = EXCLUDED.updated_at
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted) FROM upserted
        """,
        [account_id, now, now, dumps(rows)],
    )
    return cursor.fetchone()[0]


def _upsert_sqlite(cursor, account_id: int, rows: dict[str, dict], now) -> int:
    table = Contact._meta.db_table
    stamp = connection.ops.adapt_datetimefield_value(now)
    items = list(rows.items())
    created = 0
    for start in range(0, len(items), SQLITE_BATCH):
        cursor.execute(
            f"""
            INSERT INTO {table} (account_id, msisdn, metadata, created_at, updated_at)
            SELECT %s, key, json(value), %s, %s FROM json_each(%s) WHERE true
            ON CONFLICT (account_id, msisdn)
            DO UPDATE SET metadata = json_patch({table}.metadata, excluded.metadata), updated_at = excluded.updated_at
            RETURNING created_at = %s
            """,
            [account_id, stamp, stamp, dumps(dict(items[start : start + SQLITE_BATCH])), stamp],
        )
        created += sum(1 for (inserted,) in cursor.fetchall() if inserted)
    return created


def upsert_chunk(account_id: int, rows: dict[str, dict]) -> tuple[int, int]:
    """One set-based upsert of {msisdn: metadata} (metadata merged into existing contacts): (created, updated)."""
    if not rows:
        return 0, 0
    now = timezone.now()
    with connection.cursor() as cursor:
        upsert = _upsert_postgresql if is_postgresql(connection) else _upsert_sqlite
        created = upsert(cursor, account_id, rows, now)
    return created, len(rows) - created
