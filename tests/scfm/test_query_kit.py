"""The query kit used without DRF: apply_filters, sort_queryset and QueryError (a DomainError)."""

import pytest

from contacts.filters import ContactFilter
from contacts.models import Contact
from scfm.errors import DomainError
from scfm.query.filters import QueryError, apply_filters, sort_queryset
from tests.factories import ContactFactory


def test_apply_filters_returns_the_matching_rows_when_the_filters_are_valid(account):
    wanted = ContactFactory(account=account, metadata={"gender": "f"})
    ContactFactory(account=account, metadata={"gender": "m"})

    rows = apply_filters(ContactFilter, {"metadata": {"gender": "f"}}, Contact.objects.all())

    assert list(rows) == [wanted]


def test_apply_filters_raises_a_domain_error_keyed_under_error_key_when_a_filter_is_unknown(db):
    with pytest.raises(DomainError) as raised:
        apply_filters(ContactFilter, {"nope": "1"}, Contact.objects.all(), error_key="contact_filter_params")

    assert raised.value.errors == {"contact_filter_params": {"nope": ["is not a known filter"]}}


def test_query_error_without_a_key_keeps_a_list_under_base_and_rekeys_under_a_name():
    error = QueryError(["must be a hash of filters"])

    assert error.errors == {"base": ["must be a hash of filters"]}
    assert error.under("callout_filter_params").errors == {"callout_filter_params": ["must be a hash of filters"]}


def test_sort_queryset_raises_a_domain_error_when_a_column_is_unknown(db):
    with pytest.raises(DomainError) as raised:
        sort_queryset(Contact.objects.all(), "-id,shoe_size")

    assert raised.value.errors == {"sort": ["'shoe_size' is not a sortable column"]}


def test_sort_queryset_orders_newest_first_when_no_sort_is_given(account):
    older, newer = ContactFactory(account=account), ContactFactory(account=account)

    assert list(sort_queryset(Contact.objects.all(), None)) == [newer, older]
