"""The indexes PostgreSQL really has on the tables a population and a running callout write (phone calls,
participations, contacts, callouts, counter rows, callback events): none is a copy of another or a full index another
full index already starts with, and every index is named in a model's Meta (so its comment names the query it
serves) or is a primary key. Each extra index is paid for on every row a population inserts
(bench/results/populate.md)."""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

APPS = ("phone_calls", "callouts", "contacts")
HOT_MODELS = ("PhoneCall", "RemotePhoneCallEvent", "CalloutParticipation", "Callout", "CalloutCount", "Contact")

INDEXES = """
SELECT t.relname, i.relname, x.indisunique, x.indisprimary, x.indpred IS NOT NULL, am.amname,
       x.indkey::text, x.indoption::text, x.indclass::text, coalesce(pg_get_expr(x.indpred, x.indrelid), '')
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_am am ON am.oid = i.relam
WHERE t.relname = ANY(%s)
"""


def _tables() -> list[str]:
    return [model._meta.db_table for model in _models()]


def _models() -> list:
    models = [model for app in APPS for model in apps.get_app_config(app).get_models()]
    return [model for model in models if model.__name__ in HOT_MODELS]


def _indexes() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(INDEXES, [_tables()])
        return cursor.fetchall()


def _named_in_meta() -> set[str]:
    names = set()
    for model in _models():
        names |= {index.name for index in model._meta.indexes}
        names |= {constraint.name for constraint in model._meta.constraints}
    return names


def test_no_index_duplicates_another_when_listed_from_postgresql():
    seen: dict[tuple, str] = {}
    duplicates = []
    for table, name, _unique, _primary, _partial, method, keys, options, classes, predicate in _indexes():
        shape = (table, method, keys, options, classes, predicate)
        if shape in seen:
            duplicates.append((seen[shape], name))
        seen[shape] = name
    assert duplicates == []


def test_no_full_index_is_a_prefix_of_another_when_listed_from_postgresql():
    rows = [row for row in _indexes() if row[5] == "btree" and not row[4]]
    covered = []
    for table, name, unique, primary, _partial, _method, keys, options, classes, _predicate in rows:
        if unique or primary:
            continue
        for other in rows:
            if other[0] != table or other[1] == name:
                continue
            other_keys, other_options, other_classes = other[6].split(), other[7].split(), other[8].split()
            width = len(keys.split())
            if (
                len(other_keys) > width
                and other_keys[:width] == keys.split()
                and other_options[:width] == options.split()
                and other_classes[:width] == classes.split()
            ):
                covered.append((name, other[1]))
    assert covered == []


def test_every_index_is_named_in_a_model_meta_when_listed_from_postgresql():
    named = _named_in_meta()
    unnamed = [row[1] for row in _indexes() if not row[3] and row[1] not in named]
    assert sorted(unnamed) == [
        # automatic FK indexes no named index starts with: a user's / a rehearsed callout's delete checks
        "callouts_callout_created_by_id_34642631",
        "callouts_callout_rehearsal_of_id_e3ca6198",
        "contacts_metadata_gin",  # q[metadata] filters: a jsonb_path_ops GIN made by contacts/migrations/0002
    ]
