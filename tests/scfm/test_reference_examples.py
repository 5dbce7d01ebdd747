"""Replays of the request/response examples in the reference documents, sent the way the documents send them.

rest-api-current.txt: `curl -d '<JSON>'` (so a JSON document with curl's default form content type), a
`Version: HTTP/1.0` header and a Bearer token; GETs with `-g` (literal brackets in the query string).
rest-api-v2.md: form-encoded bodies (`metadata[name]=...`, `account_sid=2`) with `-u TOKEN:` (HTTP Basic).
getting-started.md: the leading-bracket form `[metadata][name]=Alice`.
"""

import json

import pytest

from accounts.models import AccessToken, Account, User
from contacts.models import Contact
from tests.factories import AccessTokenFactory, AccountFactory, ContactFactory, UserFactory
from tests.scfm.reference_requests import Curl, assert_created, assert_page, doc_json

# Keys of the documented response bodies (rest-api-current.txt). Accounts deliberately omit the auth tokens.
ACCESS_TOKEN_KEYS = {"id", "token", "created_at", "updated_at", "metadata", "permissions"}
ACCOUNT_KEYS = {
    "id", "metadata", "settings", "twilio_account_sid", "somleng_account_sid", "permissions", "created_at",
    "updated_at", "call_flow_logic", "platform_provider_name", "somleng_api_host", "somleng_api_base_url",
    "phone_calls_count", "contacts_count",
}  # fmt: skip
CONTACT_KEYS = {"id", "msisdn", "metadata", "created_at", "updated_at", "account_id"}
USER_KEYS = {"id", "account_id", "metadata", "email", "created_at", "updated_at", "locale"}


@pytest.fixture
def admin_curl(admin_account):
    return Curl(AccessTokenFactory(account=admin_account).token)


# --- Access Tokens ---------------------------------------------------------------------------------------------------


def test_access_tokens_create(curl, account):
    body = doc_json({"metadata": {"foo": "bar"}, "permissions": ["contacts_write"]})
    created = assert_created(curl("POST", "/api/access_tokens", body), "access_tokens", ACCESS_TOKEN_KEYS)
    assert set(created) == ACCESS_TOKEN_KEYS
    assert (created["metadata"], created["permissions"]) == ({"foo": "bar"}, ["contacts_write"])


def test_access_tokens_delete(curl, account):
    token = AccessTokenFactory(account=account)
    response = curl("DELETE", f"/api/access_tokens/{token.pk}", "")
    assert (response.status_code, response["Location"]) == (204, "/api/access_tokens")
    assert not AccessToken.objects.filter(pk=token.pk).exists()


def test_access_tokens_list_filtered_by_metadata(curl, account):
    token = AccessTokenFactory(account=account, metadata={"foo": "bar"}, permissions=[])
    items = assert_page(curl("GET", "/api/access_tokens?q[metadata][foo]=bar"), 1, ACCESS_TOKEN_KEYS)
    assert items[0]["id"] == token.pk
    assert items[0]["permissions"] == []


def test_access_tokens_retrieve(curl, account):
    token = AccessTokenFactory(account=account, permissions=["access_tokens_read", "access_tokens_write"])
    response = curl("GET", f"/api/access_tokens/{token.pk}")
    assert (response.status_code, response["Location"]) == (200, f"/api/access_tokens/{token.pk}")
    assert set(response.json()) == ACCESS_TOKEN_KEYS
    assert response.json()["permissions"] == ["access_tokens_read", "access_tokens_write"]


def test_access_tokens_update(curl, account):
    token = AccessTokenFactory(account=account, metadata={"old": 1})
    body = doc_json({"metadata": {"foo": "bar"}, "metadata_merge_mode": "replace"})
    response = curl("PATCH", f"/api/access_tokens/{token.pk}", body)
    assert (response.status_code, response["Location"]) == (204, f"/api/access_tokens/{token.pk}")
    token.refresh_from_db()
    assert token.metadata == {"foo": "bar"}


# --- Account Details -------------------------------------------------------------------------------------------------


def test_account_retrieve(curl, account):
    response = curl("GET", "/api/account")
    assert (response.status_code, response["Location"]) == (200, f"/api/accounts/{account.pk}")
    body = response.json()
    assert set(body) == ACCOUNT_KEYS
    assert body["settings"] == {
        "from_phone_number": "1234",
        "phone_call_queue_limit": 200,
        "max_phone_calls_for_callout_participation": 3,
    }
    assert (body["call_flow_logic"], body["permissions"], body["contacts_count"]) == (
        "CallFlowLogic::HelloWorld",
        [],
        0,
    )


def test_account_update(curl, account):
    response = curl("PATCH", "/api/account", doc_json({"metadata": {"foo": "bar"}, "metadata_merge_mode": "replace"}))
    assert (response.status_code, response["Location"]) == (204, f"/api/accounts/{account.pk}")
    account.refresh_from_db()
    assert account.metadata == {"foo": "bar"}


# --- Accounts ------------------------------------------------------------------------------------------------------


def test_accounts_create(admin_curl):
    created = assert_created(admin_curl("POST", "/api/accounts", ""), "accounts", ACCOUNT_KEYS)
    assert set(created) == ACCOUNT_KEYS
    assert created["settings"]["from_phone_number"] == "1234"


def test_accounts_delete(admin_curl):
    target = AccountFactory()
    response = admin_curl("DELETE", f"/api/accounts/{target.pk}", "")
    assert (response.status_code, response["Location"]) == (204, "/api/accounts")


def test_accounts_list_filtered_by_metadata(admin_curl):
    target = AccountFactory(metadata={"foo": "bar"})
    items = assert_page(admin_curl("GET", "/api/accounts?q[metadata][foo]=bar"), 1, ACCOUNT_KEYS)
    assert items[0]["id"] == target.pk


def test_accounts_retrieve(admin_curl):
    target = AccountFactory()
    response = admin_curl("GET", f"/api/accounts/{target.pk}")
    assert (response.status_code, response["Location"]) == (200, f"/api/accounts/{target.pk}")
    assert set(response.json()) == ACCOUNT_KEYS


def test_accounts_update(admin_curl):
    target = AccountFactory()
    settings = {
        "batch_operation_phone_call_create_parameters": {
            "callout_filter_params": {"status": "running"},
            "callout_participation_filter_params": {"no_phone_calls_or_last_attempt": "failed"},
            "remote_request_params": {"from": "1234", "url": "https://demo.twilio.com/docs/voice.xml", "method": "GET"},
        },
        "batch_operation_phone_call_queue_parameters": {
            "callout_filter_params": {"status": "running"},
            "phone_call_filter_params": {"status": "created"},
            "limit": "30",
        },
        "batch_operation_phone_call_queue_remote_fetch_parameters": {
            "phone_call_filter_params": {"status": "remotely_queued,in_progress"},
            "limit": "30",
        },
    }
    body = doc_json(
        {
            "metadata": {"foo": "bar"},
            "metadata_merge_mode": "replace",
            "twilio_account_sid": "AC8",
            "somleng_account_sid": "fa855a55-4a3b-472a-b765-1454b621c69e",
            "twilio_auth_token": "b60502a9-ac82-4a81-8eb4-ec38824aab50",
            "somleng_auth_token": "aac67fe0-8b81-4991-9fc6-8300c1992bd9",
            "call_flow_logic": "CallFlowLogic::HelloWorld",
            "platform_provider_name": "somleng",
            "settings": settings,
        }
    )
    response = admin_curl("PATCH", f"/api/accounts/{target.pk}", body)
    assert (response.status_code, response["Location"]) == (204, f"/api/accounts/{target.pk}")
    target.refresh_from_db()
    assert (target.twilio_account_sid, target.somleng_auth_token) == ("AC8", "aac67fe0-8b81-4991-9fc6-8300c1992bd9")
    assert target.settings["batch_operation_phone_call_queue_parameters"]["limit"] == "30"
    shown = admin_curl("GET", f"/api/accounts/{target.pk}").json()
    assert "twilio_auth_token" not in shown and "aac67fe0" not in json.dumps(shown)


# --- Contacts ------------------------------------------------------------------------------------------------------


def test_contacts_create(curl, account):
    body = doc_json({"msisdn": "252662345999", "metadata": {"gender": "f", "name": "Kate"}})
    created = assert_created(curl("POST", "/api/contacts", body), "contacts", CONTACT_KEYS)
    assert set(created) == CONTACT_KEYS
    assert (created["msisdn"], created["metadata"], created["account_id"]) == (
        "+252662345999",
        {"gender": "f", "name": "Kate"},
        account.pk,
    )


def test_contact_data_creates_then_updates(curl, account):
    body = doc_json({"msisdn": "252662346003", "metadata": {"gender": "f", "name": "Kate"}})
    created = assert_created(curl("POST", "/api/contact_data", body), "contacts", CONTACT_KEYS)
    assert created["msisdn"] == "+252662346003"
    again = curl("POST", "/api/contact_data", doc_json({"msisdn": "+252662346003", "metadata": {"age": 30}}))
    assert (again.status_code, again.json()["id"]) == (201, created["id"])
    assert again.json()["metadata"] == {"gender": "f", "name": "Kate", "age": 30}
    assert Contact.objects.filter(account=account).count() == 1


def test_contacts_delete(curl, account):
    contact = ContactFactory(account=account)
    response = curl("DELETE", f"/api/contacts/{contact.pk}", "")
    assert (response.status_code, response["Location"]) == (204, "/api/contacts")


def test_contacts_filter_by_metadata_any(curl, account):
    wanted = ContactFactory(account=account, metadata={"registered_districts": ["1401"]})
    ContactFactory(account=account, metadata={"registered_districts": ["1403"]})
    ContactFactory(account=account, metadata={"registered_districts": "1401"})
    path = "/api/contacts?q[metadata][registered_districts.any][]=1402&q[metadata][registered_districts.any][]=1401"
    items = assert_page(curl("GET", path), 1, CONTACT_KEYS)
    assert [item["id"] for item in items] == [wanted.pk]


def test_contacts_list(curl, account):
    contact = ContactFactory(account=account)
    items = assert_page(curl("GET", "/api/contacts"), 1, CONTACT_KEYS)
    assert items[0]["id"] == contact.pk
    assert set(items[0]) == CONTACT_KEYS


def test_contacts_retrieve(curl, account):
    contact = ContactFactory(account=account)
    response = curl("GET", f"/api/contacts/{contact.pk}")
    assert (response.status_code, response["Location"]) == (200, f"/api/contacts/{contact.pk}")
    assert set(response.json()) == CONTACT_KEYS


def test_contacts_update(curl, account):
    contact = ContactFactory(account=account, metadata={"foo": "bar"})
    body = doc_json({"metadata": {"bar": "foo"}, "metadata_merge_mode": "replace"})
    response = curl("PATCH", f"/api/contacts/{contact.pk}", body)
    assert (response.status_code, response["Location"]) == (204, f"/api/contacts/{contact.pk}")
    contact.refresh_from_db()
    assert contact.metadata == {"bar": "foo"}


def test_filtering_sorting_and_pagination(curl, account):
    matching = [
        ContactFactory(account=account, metadata={"gender": "f", "date_of_birth": "2022-01-15"}) for _ in range(26)
    ]
    ContactFactory(account=account, metadata={"gender": "m", "date_of_birth": "2022-01-15"})
    ContactFactory(account=account, metadata={"gender": "f", "date_of_birth": "2022-02-01"})
    ContactFactory(account=account, metadata={"gender": "f", "date_of_birth": "2022-01-01"})
    path = (
        "/api/contacts?q[metadata][gender]=f&q[metadata][date_of_birth.date.gt]=2022-01-01"
        "&q[metadata][date_of_birth.date.lt]=2022-02-01&q[created_at_after]=2023-09-17&sort=-id%2Ccreated_at"
    )
    response = curl("GET", path)
    items = assert_page(response, 26, CONTACT_KEYS)
    assert [item["id"] for item in items] == [contact.pk for contact in reversed(matching)][:25]
    links = response["Link"]
    assert 'rel="next"' in links and 'rel="last"' in links
    assert "page=2" in links


def test_metadata_replace(curl, account):
    contact = ContactFactory(account=account, metadata={"gender": "f"})
    body = doc_json({"metadata": {"name": "Kate"}, "metadata_merge_mode": "replace"})
    assert curl("PATCH", f"/api/contacts/{contact.pk}", body).status_code == 204
    contact.refresh_from_db()
    assert contact.metadata == {"name": "Kate"}


# --- Users ---------------------------------------------------------------------------------------------------------


def test_users_create(curl, account):
    body = doc_json({"email": "user22@example.com", "password": "secret123", "metadata": {"foo": "bar"}})
    created = assert_created(curl("POST", "/api/users", body), "users", USER_KEYS)
    assert (created["email"], created["account_id"], created["locale"]) == ("user22@example.com", account.pk, "en")


def test_users_create_event_invite(curl, account, mailoutbox):
    user = UserFactory(account=account)
    response = curl("POST", f"/api/users/{user.pk}/user_events", doc_json({"event": "invite"}))
    assert (response.status_code, response["Location"]) == (201, f"/api/users/{user.pk}")
    assert set(response.json()) >= USER_KEYS
    assert [message.to for message in mailoutbox] == [[user.email]]


def test_users_delete(curl, account):
    user = UserFactory(account=account)
    response = curl("DELETE", f"/api/users/{user.pk}", "")
    assert (response.status_code, response["Location"]) == (204, "/api/users")
    assert not User.objects.filter(pk=user.pk).exists()


def test_users_list_filtered_by_metadata(curl, account):
    user = UserFactory(account=account, metadata={"foo": "bar"})
    UserFactory(account=account)
    items = assert_page(curl("GET", "/api/users?q[metadata][foo]=bar"), 1, USER_KEYS)
    assert items[0]["id"] == user.pk


def test_users_retrieve(curl, account):
    user = UserFactory(account=account)
    response = curl("GET", f"/api/users/{user.pk}")
    assert (response.status_code, response["Location"]) == (200, f"/api/users/{user.pk}")
    assert set(response.json()) >= USER_KEYS


def test_users_update(curl, account):
    user = UserFactory(account=account, metadata={"foo": "bar"})
    body = doc_json({"metadata": {"bar": "foo"}, "metadata_merge_mode": "replace"})
    response = curl("PATCH", f"/api/users/{user.pk}", body)
    assert (response.status_code, response["Location"]) == (204, f"/api/users/{user.pk}")
    user.refresh_from_db()
    assert user.metadata == {"bar": "foo"}


# --- rest-api-v2.md: form bodies and `curl -u TOKEN:` -------------------------------------------------------------


@pytest.fixture
def admin_basic(admin_account):
    return Curl(AccessTokenFactory(account=admin_account).token, basic=True)


@pytest.fixture
def basic(account):
    return Curl(AccessTokenFactory(account=account).token, basic=True)


def test_v2_accounts_lifecycle_with_form_bodies(admin_basic, admin_account):
    created = assert_created(admin_basic("POST", "/api/accounts"), "accounts", set())
    update = admin_basic.form(
        "PATCH", f"/api/accounts/{created['id']}", "somleng_account_sid=abcdefg", "metadata[name]=Basic+Account"
    )
    assert update.status_code == 204
    fetched = admin_basic("GET", f"/api/accounts/{created['id']}").json()
    assert (fetched["metadata"], fetched["somleng_account_sid"]) == ({"name": "Basic Account"}, "abcdefg")
    listed = admin_basic("GET", "/api/accounts")
    assert (listed.status_code, listed["Per-Page"], listed["Total"]) == (200, "25", "2")
    assert {item["id"] for item in listed.json()} == {admin_account.pk, created["id"]}
    assert admin_basic("DELETE", f"/api/accounts/{created['id']}").status_code == 204


def test_v2_access_token_create_for_an_account_named_by_account_sid(admin_basic):
    target = AccountFactory()
    created = assert_created(
        admin_basic.form("POST", "/api/access_tokens", f"account_sid={target.pk}"), "access_tokens", set()
    )
    assert {"id", "token", "created_at", "updated_at", "metadata"} <= set(created)
    assert AccessToken.objects.get(pk=created["id"]).account == target


def test_v2_contacts_lifecycle_with_form_bodies(basic, account):
    created = basic.form("POST", "/api/contacts", "msisdn=%2B252662345699")
    assert created.status_code == 201
    contact_id = created.json()["id"]
    assert created.json()["msisdn"] == "+252662345699"
    path = f"/api/contacts/{contact_id}"
    update = basic.form("PATCH", path, "msisdn=%2B252662345700", "metadata[name]=Alice", "metadata[gender]=f")
    assert update.status_code == 204
    assert basic("GET", path).json()["metadata"] == {"name": "Alice", "gender": "f"}

    assert basic.form("PATCH", path, "metadata_merge_mode=merge", "metadata[province]=Kampong+Thom").status_code == 204
    assert Contact.objects.get(pk=contact_id).metadata == {"name": "Alice", "gender": "f", "province": "Kampong Thom"}
    assert basic.form("PATCH", path, "metadata_merge_mode=replace", "metadata[gender]=f").status_code == 204
    assert Contact.objects.get(pk=contact_id).metadata == {"gender": "f"}
    assert basic.form("PATCH", path, "metadata_merge_mode=deep_merge", "metadata[place][city]=PP").status_code == 204
    assert Contact.objects.get(pk=contact_id).metadata == {"gender": "f", "place": {"city": "PP"}}

    for query in (
        "q[metadata][gender]=f",
        "q[msisdn]=252662345700",
        "q[created_at_after]=2017-11-29+01:36:02",
        "q[created_at_or_after]=2017-11-29+01:36:02",
        "q[updated_at_after]=2017-11-29+01:36:02",
        "q[updated_at_or_after]=2017-11-29+01:36:02",
    ):
        items = assert_page(basic("GET", f"/api/contacts?{query}"), 1, CONTACT_KEYS)
        assert items[0]["msisdn"] == "+252662345700", query
    for query in (
        "q[created_at_before]=2017-11-29+01:36:02",
        "q[created_at_or_before]=2017-11-29+01:36:02",
        "q[updated_at_before]=2017-11-29+01:36:02",
        "q[updated_at_or_before]=2017-11-29+01:36:02",
    ):
        assert_page(basic("GET", f"/api/contacts?{query}"), 0, CONTACT_KEYS)
    assert basic("DELETE", path).status_code == 204


# --- getting-started.md: the leading-bracket form -------------------------------------------------------------------


def test_getting_started_contacts_with_leading_bracket_keys(basic, account):
    alice = basic.form("POST", "/api/contacts", "msisdn=%2B252662345678").json()
    update = basic.form("PATCH", f"/api/contacts/{alice['id']}", "[metadata][name]=Alice", "[metadata][gender]=f")
    assert (update.status_code, update.content) == (204, b"")
    assert basic("GET", f"/api/contacts/{alice['id']}").json()["metadata"] == {"name": "Alice", "gender": "f"}

    bob = basic.form("POST", "/api/contacts", "msisdn=%2B252662345679", "[metadata][name]=Bob", "[metadata][gender]=m")
    assert (bob.status_code, bob.json()["metadata"]) == (201, {"name": "Bob", "gender": "m"})
    ghosts = basic.form("POST", "/api/contacts", "msisdn=%2B85510202103", "metadata[name]=Ghostbusters")
    assert ghosts.json()["msisdn"] == "+85510202103"

    assert_page(basic("GET", "/api/contacts"), 3, CONTACT_KEYS)
    females = assert_page(basic("GET", "/api/contacts?q[metadata][gender]=f"), 1, CONTACT_KEYS)
    assert females[0]["id"] == alice["id"]

    ghosts_path = f"/api/contacts/{ghosts.json()['id']}"
    assert basic("DELETE", ghosts_path).status_code == 204
    gone = basic("GET", ghosts_path)
    assert (gone.status_code, gone.json()) == (404, {"status": 404, "error": "Not Found"})
    assert Account.objects.get(pk=account.pk).contacts.count() == 2
