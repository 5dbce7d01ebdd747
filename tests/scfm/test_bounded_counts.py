"""Counts a page must not wait on (scfm/db.py): a count that gives up after a timeout, and a capped count."""

from django.db import connection

from contacts.models import Contact
from scfm.db import capped_count, count_within
from tests.factories import ContactFactory


def test_a_count_that_takes_too_long_gives_up_and_leaves_the_transaction_usable(require_postgresql):
    ContactFactory()
    slow = Contact.objects.extra(where=["pg_sleep(0.2) IS NOT NULL"])  # noqa: S610 (a fixed test expression)
    assert count_within(slow, timeout_ms=20) is None
    assert Contact.objects.count() == 1  # the transaction goes on
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


def test_a_quick_count_is_exact_and_resets_the_timeout(require_postgresql):
    for _ in range(3):
        ContactFactory()
    assert count_within(Contact.objects.all(), timeout_ms=2000) == 3
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


def test_capped_count_stops_at_the_cap(db):
    for _ in range(5):
        ContactFactory()
    assert capped_count(Contact.objects.all(), cap=3) == (3, True)
    assert capped_count(Contact.objects.all(), cap=5) == (5, False)
    assert capped_count(Contact.objects.none(), cap=5) == (0, False)
