import json
import threading

import pytest
from django.db import connection

from accounts.models import Permission
from contacts.models import Contact
from tests.api_cases import ResourceAPICases, listed_ids
from tests.factories import ContactFactory


class TestContactsAPI(ResourceAPICases):
    list_url = "/api/contacts"
    resource = "contacts"

    def make(self, account):
        return ContactFactory(account=account)


def test_create_normalizes_msisdn_and_returns_location(client_for, account):
    response = client_for.post(
        "/api/contacts", {"msisdn": "252662345999", "metadata": {"gender": "f", "name": "Kate"}}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["msisdn"] == "+252662345999"
    assert body["metadata"] == {"gender": "f", "name": "Kate"}
    assert body["account_id"] == account.pk
    assert response["Location"] == f"/api/contacts/{body['id']}"


def test_create_accepts_json_sent_with_curls_default_form_content_type(client_for):
    response = client_for.generic(
        "POST",
        "/api/contacts",
        json.dumps({"msisdn": "252662345999", "metadata": {"name": "Kate"}}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201
    assert response.json()["metadata"] == {"name": "Kate"}


def test_create_accepts_form_encoded_bracket_keys(client_for):
    response = client_for.generic(
        "POST",
        "/api/contacts",
        "msisdn=%2B252662345679&[metadata][name]=Bob&metadata[gender]=m",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201
    assert response.json()["metadata"] == {"name": "Bob", "gender": "m"}


def test_same_number_written_differently_is_already_taken(client_for, account):
    ContactFactory(account=account, msisdn="+252662345678")
    for written in ("252662345678", "+252 66 234 5678", "+252662345678"):
        response = client_for.post("/api/contacts", {"msisdn": written}, format="json")
        assert response.status_code == 422
        assert response.json() == {"errors": {"msisdn": ["has already been taken"]}}


def test_the_same_number_may_belong_to_two_accounts(client_for, other_account):
    ContactFactory(account=other_account, msisdn="+252662345678")
    assert client_for.post("/api/contacts", {"msisdn": "252662345678"}, format="json").status_code == 201


def test_implausible_number_is_invalid(client_for):
    response = client_for.post("/api/contacts", {"msisdn": "1234"}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"msisdn": ["is invalid"]}}


def test_missing_msisdn_is_blank(client_for):
    response = client_for.post("/api/contacts", {}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"]["msisdn"] == ["can't be blank"]


def test_malformed_json_is_bad_request(client_for):
    response = client_for.generic("POST", "/api/contacts", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "errors" in response.json()


def test_non_hash_metadata_is_unprocessable(client_for):
    response = client_for.post("/api/contacts", {"msisdn": "252662345999", "metadata": "x"}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"]["metadata"] == ["must be a hash"]


def test_create_needs_write_permission(make_client, account):
    client = make_client(account, permissions=[Permission.CONTACTS_READ])
    response = client.post("/api/contacts", {"msisdn": "252662345999"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"errors": {"base": ["Missing permission: contacts_write"]}}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("merge", {"name": "Kate", "address": {"city": "PP"}, "gender": "f"}),
        ("replace", {"address": {"city": "PP"}}),
        ("deep_merge", {"name": "Kate", "address": {"city": "PP", "country": "KH"}, "gender": "f"}),
    ],
)
def test_update_applies_metadata_merge_mode(client_for, account, mode, expected):
    contact = ContactFactory(account=account, metadata={"name": "Kate", "gender": "f", "address": {"country": "KH"}})
    response = client_for.patch(
        f"/api/contacts/{contact.pk}",
        {"metadata": {"address": {"city": "PP"}}, "metadata_merge_mode": mode},
        format="json",
    )
    assert response.status_code == 204
    assert response["Location"] == f"/api/contacts/{contact.pk}"
    contact.refresh_from_db()
    assert contact.metadata == expected


def test_unknown_merge_mode_is_unprocessable(client_for, account):
    contact = ContactFactory(account=account)
    response = client_for.patch(
        f"/api/contacts/{contact.pk}", {"metadata": {}, "metadata_merge_mode": "smash"}, format="json"
    )
    assert response.status_code == 422


def test_update_of_another_accounts_contact_is_not_found(client_for, other_account):
    contact = ContactFactory(account=other_account)
    response = client_for.patch(f"/api/contacts/{contact.pk}", {"metadata": {"x": 1}}, format="json")
    assert response.status_code == 404


def test_delete_removes_the_contact(client_for, account):
    contact = ContactFactory(account=account)
    response = client_for.delete(f"/api/contacts/{contact.pk}")
    assert response.status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert client_for.get(f"/api/contacts/{contact.pk}").status_code == 404


def test_contact_data_creates_then_updates_by_msisdn(client_for, account):
    first = client_for.post(
        "/api/contact_data", {"msisdn": "252662346003", "metadata": {"name": "Kate"}}, format="json"
    )
    assert first.status_code == 201
    second = client_for.post(
        "/api/contact_data", {"msisdn": "+252 66 234 6003", "metadata": {"gender": "f"}}, format="json"
    )
    assert second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["metadata"] == {"name": "Kate", "gender": "f"}
    assert Contact.objects.filter(account=account).count() == 1


def test_contact_data_without_msisdn_is_unprocessable(client_for):
    response = client_for.post("/api/contact_data", {"metadata": {"a": 1}}, format="json")
    assert response.status_code == 422


def test_filters_by_msisdn_written_any_way(client_for, account):
    contact = ContactFactory(account=account, msisdn="+252662345678")
    ContactFactory(account=account)
    for written in ("252662345678", "+252 66 234 5678"):
        response = client_for.get("/api/contacts", {"q[msisdn]": written})
        assert [item["id"] for item in response.json()] == [contact.pk]
    assert [item["id"] for item in client_for.get("/api/contacts", {"msisdn": "252662345678"}).json()] == [contact.pk]


def test_legacy_unnested_metadata_filter(client_for, account):
    contact = ContactFactory(account=account, metadata={"foo": "bar", "bar": "baz"})
    ContactFactory(account=account, metadata={"foo": "bar"})
    response = client_for.get("/api/contacts?metadata[foo]=bar&metadata[bar]=baz")
    assert [item["id"] for item in response.json()] == [contact.pk]


def test_metadata_operators(client_for, account):
    jan = ContactFactory(
        account=account,
        metadata={"gender": "f", "date_of_birth": "2022-01-15", "age": 30, "districts": ["1401", "1402"]},
    )
    feb = ContactFactory(
        account=account,
        metadata={"gender": "f", "date_of_birth": "2022-02-15", "age": "9", "deregistered_at": "2023-01-01"},
    )
    male = ContactFactory(account=account, metadata={"gender": "m", "age": 100})

    def ids(query):
        return sorted(listed_ids(client_for.get("/api/contacts?" + query)))

    assert ids("q[metadata][gender]=f") == sorted([jan.pk, feb.pk])
    assert ids("q[metadata][date_of_birth.date.gt]=2022-01-01&q[metadata][date_of_birth.date.lt]=2022-02-01") == [
        jan.pk
    ]
    assert ids("q[metadata][age.gt]=10") == sorted([jan.pk, male.pk])
    assert ids("q[metadata][age.numeric.lteq]=30") == sorted([jan.pk, feb.pk])
    assert ids("q[metadata][districts.any][]=1402&q[metadata][districts.any][]=9999") == [jan.pk]
    assert ids("q[metadata][gender.in][]=m&q[metadata][gender.in][]=x") == [male.pk]
    assert ids("q[metadata][deregistered_at.exists]=false&q[metadata][gender]=f") == [jan.pk]
    assert ids("q[metadata][deregistered_at.exists]=true") == [feb.pk]
    assert ids("q[metadata][age]=30") == [jan.pk]


@pytest.mark.parametrize(
    "query",
    [
        "q[metadata][date_of_birth.date.gt]=yesterday",
        "q[metadata][age.gt]=ten",
        "q[metadata][age.exists]=maybe",
        "q[metadata][age.date]=2022-01-01",
        "q[created_at_after]=not-a-date",
        "q=flat",
        "page=abc",
    ],
)
def test_invalid_filter_values_are_unprocessable(client_for, account, query):
    ContactFactory(account=account)
    response = client_for.get("/api/contacts?" + query)
    assert response.status_code == 422, response.content
    assert "errors" in response.json()


def test_timestamp_filters(client_for, account):
    old = ContactFactory(account=account)
    Contact.objects.filter(pk=old.pk).update(created_at="2017-11-29T01:36:02Z")
    new = ContactFactory(account=account)

    def ids(query):
        return sorted(listed_ids(client_for.get("/api/contacts?" + query)))

    assert ids("q[created_at_before]=2017-11-29+01:36:03") == [old.pk]
    assert ids("q[created_at_after]=2017-11-29+01:36:02") == [new.pk]
    assert ids("q[created_at_or_after]=2017-11-29+01:36:02") == sorted([old.pk, new.pk])
    assert ids("q[created_at_or_before]=2017-11-29") == [old.pk]
    assert ids("q[created_at_after]=2017-11-29") == [new.pk]


def test_pagination_link_header_and_sorting(client_for, account):
    contacts = [ContactFactory(account=account) for _ in range(30)]
    response = client_for.get("/api/contacts")
    assert response["Total"] == "30"
    assert [item["id"] for item in response.json()] == [c.pk for c in reversed(contacts)][:25]
    link = response["Link"]
    assert 'rel="next"' in link and 'rel="last"' in link and "page=2" in link
    assert 'rel="prev"' not in link
    second = client_for.get("/api/contacts", {"page": 2})
    assert len(second.json()) == 5
    assert 'rel="first"' in second["Link"] and 'rel="prev"' in second["Link"]
    ascending = client_for.get("/api/contacts", {"sort": "created_at,id", "per_page": 3})
    assert [item["id"] for item in ascending.json()] == [c.pk for c in contacts[:3]]
    assert ascending["Per-Page"] == "3"


def test_single_page_has_no_link_header(client_for, account):
    ContactFactory(account=account)
    assert "Link" not in client_for.get("/api/contacts")


def test_authenticates_with_basic_token_and_query_param(make_client, account, anonymous):
    client = make_client(account)
    ContactFactory(account=account)
    anonymous.credentials(
        HTTP_AUTHORIZATION="Basic " + __import__("base64").b64encode(f"{client.token.token}:".encode()).decode()
    )
    assert anonymous.get("/api/contacts").status_code == 200
    fresh = type(anonymous)()
    assert fresh.get(f"/api/contacts?access_token={client.token.token}").status_code == 200
    fresh.credentials(HTTP_AUTHORIZATION="Bearer wrong")
    response = fresh.get("/api/contacts")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_single_tenant_basic_auth(settings, anonymous, db):
    settings.HTTP_BASIC_AUTH_USER = "api-user"
    settings.HTTP_BASIC_AUTH_PASSWORD = "secret"
    import base64

    anonymous.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"api-user:secret").decode())
    assert anonymous.post("/api/contacts", {"msisdn": "+85510202101"}, format="json").status_code == 201
    anonymous.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"api-user:wrong").decode())
    assert anonymous.get("/api/contacts").status_code == 401


def test_list_runs_a_fixed_number_of_queries(client_for, account, django_assert_max_num_queries):
    for _ in range(10):
        ContactFactory(account=account)
    with django_assert_max_num_queries(3):
        client_for.get("/api/contacts")


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_number_make_one_contact(make_client, require_postgresql):
    client = make_client()
    results = []

    def create():
        from rest_framework.test import APIClient

        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {client.token.token}")
        results.append(c.post("/api/contacts", {"msisdn": "252662345678"}, format="json").status_code)
        connection.close()

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201] + [422] * 5
    assert Contact.objects.filter(account=client.account).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_metadata_merges_keep_every_key(make_client, require_postgresql):
    client = make_client()
    contact = ContactFactory(account=client.account)

    def merge(key):
        from rest_framework.test import APIClient

        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {client.token.token}")
        assert c.patch(f"/api/contacts/{contact.pk}", {"metadata": {key: True}}, format="json").status_code == 204
        connection.close()

    threads = [threading.Thread(target=merge, args=(f"key{index}",)) for index in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    contact.refresh_from_db()
    assert contact.metadata == {f"key{index}": True for index in range(12)}
