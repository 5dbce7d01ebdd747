"""`.any` on JSON arrays gives the same rows on PostgreSQL (GIN containment + exact check) and SQLite."""

import pytest

from tests.factories import ContactFactory

DOCUMENTS = {
    "strings": {"districts": ["1401", "1410"]},
    "numbers": {"districts": [1401, 7]},
    "decimal": {"districts": [1.50]},
    "booleans": {"districts": [True]},
    "nested": {"place": {"districts": ["1401"]}},
    "scalar": {"districts": "1401"},
    "object": {"districts": {"1401": "x"}},
    "null_element": {"districts": [None]},
    "array_element": {"districts": [["1401"]]},
    "empty": {},
}


@pytest.fixture
def contacts(account):
    return {name: ContactFactory(account=account, metadata=metadata).pk for name, metadata in DOCUMENTS.items()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q[metadata][districts.any][]": ["1401", "1402"]}, {"strings", "numbers"}),
        ({"q[metadata][districts.any][]": ["7"]}, {"numbers"}),
        ({"q[metadata][districts.any][]": ["1.5"]}, {"decimal"}),
        ({"q[metadata][districts.any][]": ["1.50"]}, set()),
        ({"q[metadata][districts.any][]": ["true"]}, {"booleans"}),
        ({"q[metadata][districts.any]": "1410,9"}, {"strings"}),
        ({"q[metadata][place][districts.any][]": ["1401"]}, {"nested"}),
        ({"q[metadata][districts.any][]": ["null"]}, set()),
        ({"q[metadata][districts.any][]": ["NaN", "1e400"]}, set()),
        ({"q[metadata][districts.any][]": ['["1401"]']}, {"array_element"}),
        ({"q[metadata][districts.any][]": ["1401", "null"]}, {"strings", "numbers"}),
    ],
)
def test_any_matches_array_elements_by_their_text_when_filtering(client_for, contacts, query, expected):
    response = client_for.get("/api/contacts", {**query, "per_page": 100})
    assert response.status_code == 200, response.content
    names = {name for name, pk in contacts.items() if pk in {item["id"] for item in response.json()}}
    assert names == expected
