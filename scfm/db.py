"""Database helpers: SQLite gets the JSON filter function that PostgreSQL does in plain SQL."""

import json


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor != "sqlite":
        return
    from scfm.api.json_query import sqlite_json_match

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
