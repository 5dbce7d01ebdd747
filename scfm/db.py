"""Database helpers: prepared statements for hot paths, and the JSON filter function SQLite gets (PostgreSQL does
it in plain SQL)."""

import json
import time

import psycopg
from django.db import connection, migrations


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor != "sqlite":
        return
    from scfm.query.json_query import sqlite_json_match

    connection.connection.create_function("scfm_json_match", 2, sqlite_json_match, deterministic=True)


def is_postgresql(connection) -> bool:
    return connection.vendor == "postgresql"


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def gin_index(table: str, column: str, name: str):
    """A migration operation adding a GIN index on a JSON column, on PostgreSQL only (SQLite has no GIN)."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        if is_postgresql(schema_editor.connection):
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ("{column}" jsonb_path_ops)'
            )

    def backwards(apps, schema_editor):
        if is_postgresql(schema_editor.connection):
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    return migrations.RunPython(forwards, backwards)


def fetch_one_prepared(sql: str, params: dict) -> tuple | None:
    """Run one statement of a hot path (`%(name)s` parameters) and return its first row.

    On PostgreSQL it is a prepared statement, parsed and planned once per connection (psycopg's server-side binding;
    the rest of the ORM keeps Django's client-side binding, whose plans see every value). Elsewhere it goes through
    Django's cursor. Either way it is logged as Django logs queries (django_assert_num_queries counts it).
    """
    if not is_postgresql(connection):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    connection.ensure_connection()
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        row = cursor.fetchone()
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return row


SAME_ENVIRONMENT = (
    "run the command with the same environment as `make run` (SCFM_DATA_DIR, DATABASE_URL), so it uses the same data"
)


def database_name() -> str:
    """The database in use as a person would name it: the SQLite file, or name@host."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return str(db["NAME"])
    return f"{db['NAME']}@{db.get('HOST') or 'localhost'}"


def no_tables_message(error: Exception) -> str:
    """What a management command says when its first query finds no SCFM tables (a DatabaseError): it was most
    likely run with another environment than `make run`'s."""
    first_line = (str(error).strip().splitlines() or [""])[0]
    return (
        f"the database {database_name()} has no SCFM tables ({first_line}): {SAME_ENVIRONMENT}, or create them with "
        "`python manage.py migrate`"
    )


class OnPostgreSQLByHand(migrations.SeparateDatabaseAndState):
    """A migration step whose `database_operations` (hand-written SQL) run on PostgreSQL only; on any other database
    (SQLite, the laptop mode) its `state_operations` run as Django would run them. For changes Django would do the
    slow way on PostgreSQL, e.g. `db_index=False` on a foreign key, which Django does by dropping and re-adding the
    constraint (a validation scan of the table) where one `DROP INDEX` is enough."""

    def _states(self, app_label, from_state):
        states = [from_state]
        for operation in self.state_operations:
            state = states[-1].clone()
            operation.state_forwards(app_label, state)
            states.append(state)
        return states

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        states = self._states(app_label, from_state)
        for index, operation in enumerate(self.state_operations):
            operation.database_forwards(app_label, schema_editor, states[index], states[index + 1])
        return None

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        states = self._states(app_label, to_state)
        for index in reversed(range(len(self.state_operations))):
            operation = self.state_operations[index]
            operation.database_backwards(app_label, schema_editor, states[index + 1], states[index])
        return None


def count_within(queryset, *, timeout_ms: int) -> int | None:
    """`queryset.count()`, or None when it takes longer than `timeout_ms` (PostgreSQL's statement_timeout, set for
    this one statement in a savepoint; the cancelled statement leaves the outer transaction usable). Elsewhere
    (SQLite, no timeout) the plain count. For live counts a page must not wait on (the population builder)."""
    from django.db import OperationalError, transaction

    if not is_postgresql(connection):
        return queryset.count()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [int(timeout_ms)])
            count = queryset.count()
            # inside an outer transaction a released savepoint would keep the setting: put it back
            cursor.execute("SET LOCAL statement_timeout TO DEFAULT")
            return count
    except OperationalError as error:
        if isinstance(getattr(error, "__cause__", None), psycopg.errors.QueryCanceled):
            return None
        raise


def capped_count(queryset, *, cap: int) -> tuple[int, bool]:
    """(how many rows, whether there are more than `cap`): counts at most cap + 1 rows, so its cost is bounded
    whatever the table's size. Shown as "more than {cap}" when capped."""
    # a sliced queryset counts as SELECT COUNT(*) FROM (SELECT ... LIMIT cap + 1): never more than cap + 1 rows read
    counted = queryset.order_by().values("pk")[: cap + 1].count()
    return min(counted, cap), counted > cap
