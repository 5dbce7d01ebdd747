"""/api/account (the caller's own account) and /api/accounts (super admins manage every account)."""

import pytest

from accounts.models import AccessToken, Account, Permission
from batch_operations.models import BatchOperation
from callouts.models import Callout
from tests.factories import AccessTokenFactory, AccountFactory, ContactFactory, UserFactory

ACCOUNT_KEYS = {
    "id",
    "metadata",
    "settings",
    "twilio_account_sid",
    "somleng_account_sid",
    "permissions",
    "created_at",
    "updated_at",
    "call_flow_logic",
    "platform_provider_name",
    "somleng_api_host",
    "somleng_api_base_url",
    "phone_calls_count",
    "contacts_count",
}
DEFAULT_SETTINGS = {
    "from_phone_number": "1234",
    "phone_call_queue_limit": 200,
    "max_phone_calls_for_callout_participation": 3,
}
SECRETS = {"twilio_auth_token": "twilio-secret", "somleng_auth_token": "somleng-secret"}


def all_but(*excluded: str) -> list[str]:
    return [p for p in Permission.values if p not in excluded]


# --- /api/account ---------------------------------------------------------------------------------------------------


def test_show_current_account_returns_documented_fields_when_authenticated(client_for, account):
    ContactFactory(account=account)
    response = client_for.get("/api/account")
    assert response.status_code == 200
    assert response["Location"] == f"/api/accounts/{account.pk}"
    body = response.json()
    assert set(body) == ACCOUNT_KEYS
    assert body["id"] == account.pk
    assert body["settings"] == DEFAULT_SETTINGS
    assert body["call_flow_logic"] == "CallFlowLogic::HelloWorld"
    assert body["permissions"] == []
    assert body["contacts_count"] == 1
    assert body["phone_calls_count"] == 0


def test_show_current_account_is_unauthorized_when_no_credentials(anonymous, db):
    response = anonymous.get("/api/account")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "errors" in response.json()


def test_show_current_account_is_unauthorized_when_token_is_unknown(anonymous, db):
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer no-such-token")
    assert anonymous.get("/api/account").status_code == 401


def test_show_current_account_is_forbidden_when_token_lacks_accounts_read(make_client, account):
    client = make_client(account, permissions=all_but("accounts_read"))
    response = client.get("/api/account")
    assert response.status_code == 403
    assert "accounts_read" in str(response.json()["errors"])


def test_update_current_account_replaces_metadata_when_merge_mode_is_replace(client_for, account):
    Account.objects.filter(pk=account.pk).update(metadata={"old": "value"})
    response = client_for.patch(
        "/api/account", {"metadata": {"foo": "bar"}, "metadata_merge_mode": "replace"}, format="json"
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response["Location"] == f"/api/accounts/{account.pk}"
    account.refresh_from_db()
    assert account.metadata == {"foo": "bar"}


def test_update_current_account_stores_auth_tokens_but_never_returns_them(client_for, account):
    response = client_for.patch("/api/account", {**SECRETS, "twilio_account_sid": "AC123"}, format="json")
    assert response.status_code == 204
    account.refresh_from_db()
    assert (account.twilio_auth_token, account.somleng_auth_token) == ("twilio-secret", "somleng-secret")
    body = client_for.get("/api/account").json()
    assert body["twilio_account_sid"] == "AC123"
    assert not set(SECRETS) & set(body)
    assert "secret" not in str(body)


def test_update_current_account_is_unprocessable_when_it_names_permissions(client_for, account):
    response = client_for.patch("/api/account", {"permissions": ["super_admin"]}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"permissions": ["is read-only"]}}
    account.refresh_from_db()
    assert not account.is_super_admin


def test_update_current_account_is_forbidden_when_token_lacks_accounts_write(make_client, account):
    client = make_client(account, permissions=all_but("accounts_write"))
    response = client.patch("/api/account", {"metadata": {"a": 1}}, format="json")
    assert response.status_code == 403
    assert "accounts_write" in str(response.json()["errors"])


def test_update_current_account_is_unauthorized_when_no_credentials(anonymous, db):
    assert anonymous.patch("/api/account", {"metadata": {"a": 1}}, format="json").status_code == 401


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"platform_provider_name": "nokia"}, "platform_provider_name"),
        ({"metadata": "not a hash"}, "metadata"),
        ({"settings": ["not", "a", "hash"]}, "settings"),
        ({"metadata_merge_mode": "sideways"}, "metadata_merge_mode"),
        ({"call_flow_logic": "CallFlowLogic::NoSuchFlow"}, "call_flow_logic"),
    ],
)
def test_update_current_account_is_unprocessable_when_input_is_bad(client_for, payload, field):
    response = client_for.patch("/api/account", payload, format="json")
    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_update_current_account_is_unprocessable_when_sid_belongs_to_another_account(client_for, other_account):
    Account.objects.filter(pk=other_account.pk).update(somleng_account_sid="shared-sid")
    response = client_for.patch("/api/account", {"somleng_account_sid": "SHARED-SID"}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"somleng_account_sid": ["has already been taken"]}}


# --- /api/accounts: who may use it ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/accounts"), ("post", "/api/accounts"), ("get", "/api/accounts/{id}"),
     ("patch", "/api/accounts/{id}"), ("delete", "/api/accounts/{id}")],
)  # fmt: skip
def test_accounts_endpoints_are_forbidden_when_caller_is_not_super_admin(client_for, other_account, method, path):
    response = getattr(client_for, method)(path.format(id=other_account.pk), format="json")
    assert response.status_code == 403
    assert "super admin" in str(response.json()["errors"])
    assert Account.objects.filter(pk=other_account.pk).exists()


@pytest.mark.parametrize(("method", "path"), [("get", "/api/accounts"), ("get", "/api/accounts/{id}")])
def test_accounts_endpoints_are_unauthorized_when_no_credentials(anonymous, other_account, method, path):
    response = getattr(anonymous, method)(path.format(id=other_account.pk))
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


@pytest.mark.parametrize(
    ("method", "path", "needed"),
    [("get", "/api/accounts", "accounts_read"), ("get", "/api/accounts/{id}", "accounts_read"),
     ("post", "/api/accounts", "accounts_write"), ("patch", "/api/accounts/{id}", "accounts_write"),
     ("delete", "/api/accounts/{id}", "accounts_write")],
)  # fmt: skip
def test_accounts_endpoints_are_forbidden_when_super_admin_token_lacks_permission(
    make_client, admin_account, other_account, method, path, needed
):
    client = make_client(admin_account, permissions=all_but(needed))
    response = getattr(client, method)(path.format(id=other_account.pk), format="json")
    assert response.status_code == 403
    assert needed in str(response.json()["errors"])


# --- /api/accounts: CRUD -------------------------------------------------------------------------------------------


def test_create_account_with_empty_body_uses_defaults(admin):
    response = admin.post("/api/accounts")
    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == f"/api/accounts/{body['id']}"
    assert set(body) == ACCOUNT_KEYS
    assert body["settings"] == DEFAULT_SETTINGS
    assert body["metadata"] == {}
    assert body["permissions"] == []
    assert body["platform_provider_name"] is None
    assert (body["contacts_count"], body["phone_calls_count"]) == (0, 0)


def test_create_account_stores_fields_and_hides_auth_tokens(admin):
    response = admin.post(
        "/api/accounts",
        {
            **SECRETS,
            "twilio_account_sid": " AC999 ",
            "platform_provider_name": "twilio",
            "somleng_api_host": "api.somleng.org",
            "metadata": {"name": "Ops"},
            "settings": {"from_phone_number": "5555"},
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert not set(SECRETS) & set(body)
    assert body["twilio_account_sid"] == "AC999"
    assert body["platform_provider_name"] == "twilio"
    assert body["settings"]["from_phone_number"] == "5555"
    assert body["settings"]["phone_call_queue_limit"] == 200
    stored = Account.objects.get(pk=body["id"])
    assert stored.twilio_auth_token == "twilio-secret"
    assert not stored.is_super_admin


def test_create_account_cannot_make_a_super_admin(admin):
    count = Account.objects.count()
    response = admin.post("/api/accounts", {"permissions": ["super_admin"]}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"permissions": ["is read-only"]}}
    assert Account.objects.count() == count


@pytest.mark.parametrize("column", ["twilio_account_sid", "somleng_account_sid"])
def test_create_account_is_unprocessable_when_sid_is_taken(admin, column):
    AccountFactory(**{column: "AC-TAKEN"})
    response = admin.post("/api/accounts", {column: "ac-taken"}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {column: ["has already been taken"]}}


def test_create_account_is_unprocessable_when_provider_is_unknown(admin):
    response = admin.post("/api/accounts", {"platform_provider_name": "nokia"}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"]["platform_provider_name"] == ["is not included in the list"]


def test_list_accounts_shows_every_account_filtered_by_metadata(admin, admin_account):
    wanted = AccountFactory(metadata={"foo": "bar"})
    AccountFactory(metadata={"foo": "baz"})
    response = admin.get("/api/accounts", {"q[metadata][foo]": "bar"})
    assert response.status_code == 200
    assert response["Per-Page"] == "25"
    assert response["Total"] == "1"
    assert [item["id"] for item in response.json()] == [wanted.pk]
    all_ids = [item["id"] for item in admin.get("/api/accounts", {"per_page": 100}).json()]
    assert admin_account.pk in all_ids and wanted.pk in all_ids


def test_list_accounts_counts_contacts_of_each_account(admin, django_assert_max_num_queries):
    first, second = AccountFactory(), AccountFactory()
    ContactFactory.create_batch(2, account=first)
    ContactFactory(account=second)
    with django_assert_max_num_queries(4):
        body = admin.get("/api/accounts", {"per_page": 100}).json()
    counts = {item["id"]: item["contacts_count"] for item in body}
    assert (counts[first.pk], counts[second.pk]) == (2, 1)


def test_show_account_returns_another_account_for_super_admin(admin, other_account):
    response = admin.get(f"/api/accounts/{other_account.pk}")
    assert response.status_code == 200
    assert response["Location"] == f"/api/accounts/{other_account.pk}"
    assert response.json()["id"] == other_account.pk


def test_show_account_is_not_found_when_id_is_unknown(admin):
    response = admin.get("/api/accounts/999999")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": "Not Found"}


def test_update_account_replaces_settings_and_keeps_defaults(admin, other_account):
    response = admin.patch(
        f"/api/accounts/{other_account.pk}",
        {
            "metadata": {"foo": "bar"},
            "metadata_merge_mode": "replace",
            "somleng_account_sid": "fa855a55",
            "platform_provider_name": "somleng",
            "settings": {"phone_call_queue_limit": 30, "custom": {"a": 1}},
            **SECRETS,
        },
        format="json",
    )
    assert response.status_code == 204
    assert response["Location"] == f"/api/accounts/{other_account.pk}"
    other_account.refresh_from_db()
    assert other_account.metadata == {"foo": "bar"}
    assert other_account.settings == {**DEFAULT_SETTINGS, "phone_call_queue_limit": 30, "custom": {"a": 1}}
    assert other_account.somleng_auth_token == "somleng-secret"
    assert other_account.platform_provider_name == "somleng"


def test_update_account_clears_a_sid_when_blank(admin):
    target = AccountFactory(twilio_account_sid="AC1")
    assert admin.patch(f"/api/accounts/{target.pk}", {"twilio_account_sid": ""}, format="json").status_code == 204
    target.refresh_from_db()
    assert target.twilio_account_sid is None


def test_update_account_is_unprocessable_when_sid_is_taken(admin, other_account):
    AccountFactory(twilio_account_sid="AC-TAKEN")
    response = admin.patch(f"/api/accounts/{other_account.pk}", {"twilio_account_sid": "AC-TAKEN"}, format="json")
    assert response.status_code == 422
    assert "twilio_account_sid" in response.json()["errors"]


def test_update_account_keeps_its_own_sid(admin):
    target = AccountFactory(twilio_account_sid="AC-MINE")
    response = admin.patch(f"/api/accounts/{target.pk}", {"twilio_account_sid": "AC-MINE"}, format="json")
    assert response.status_code == 204


def test_update_account_is_not_found_when_id_is_unknown(admin):
    assert admin.patch("/api/accounts/999999", {"metadata": {}}, format="json").status_code == 404


def test_delete_account_removes_an_empty_account(admin):
    target = AccountFactory()
    response = admin.delete(f"/api/accounts/{target.pk}")
    assert response.status_code == 204
    assert response["Location"] == "/api/accounts"
    assert not Account.objects.filter(pk=target.pk).exists()


@pytest.mark.parametrize(
    ("make_dependent", "humanized"),
    [
        (lambda account: UserFactory(account=account), "users"),
        (lambda account: AccessTokenFactory(account=account), "access tokens"),
        (lambda account: ContactFactory(account=account), "contacts"),
        (
            lambda account: Callout.objects.create(account=account, call_flow_logic="CallFlowLogic::HelloWorld"),
            "callouts",
        ),
        (
            lambda account: BatchOperation.objects.create(account=account, type="BatchOperation::CalloutPopulation"),
            "batch operations",
        ),
    ],
)
def test_delete_account_is_unprocessable_when_it_owns_records(admin, make_dependent, humanized):
    target = AccountFactory()
    make_dependent(target)
    response = admin.delete(f"/api/accounts/{target.pk}")
    assert response.status_code == 422
    assert response.json() == {"errors": {"base": [f"Cannot delete record because dependent {humanized} exist"]}}
    assert Account.objects.filter(pk=target.pk).exists()


def test_delete_account_is_not_found_when_id_is_unknown(admin):
    assert admin.delete("/api/accounts/999999").status_code == 404


def test_super_admin_token_of_the_account_itself_blocks_its_deletion(admin, admin_account):
    response = admin.delete(f"/api/accounts/{admin_account.pk}")
    assert response.status_code == 422
    assert AccessToken.objects.filter(account=admin_account).exists()


@pytest.mark.parametrize(
    "bad_settings",
    [
        {"max_phone_calls_for_callout_participation": "three"},
        {"max_phone_calls_for_callout_participation": 11},
        {"retry_backoff_seconds": 10**12},
        {"max_calls_per_second": -1},
        {"phone_call_queue_limit": True},
        {"retry_statuses": ["busy", "bored"]},
        {"simulator_outcomes": {"completed": "lots"}},
        {"simulator_outcomes": {"exploded": 1}},
    ],
)
def test_dialling_settings_out_of_range_are_unprocessable(make_client, account, bad_settings):
    client = make_client(account)
    response = client.patch("/api/account", {"settings": bad_settings}, format="json")
    assert response.status_code == 422
    assert "settings" in response.json()["errors"]


def test_dialling_settings_in_range_are_stored(make_client, account):
    client = make_client(account)
    new_settings = {
        "max_calls_per_second": 2.5,
        "retry_statuses": "busy,failed",
        "retry_backoff_seconds": 60,
        "simulator_outcomes": {"completed": 1, "busy": 1},
        "free_form": {"anything": ["goes"]},
    }
    assert client.patch("/api/account", {"settings": new_settings}, format="json").status_code == 204
    account.refresh_from_db()
    assert account.settings["retry_backoff_seconds"] == 60
    assert account.settings["free_form"] == {"anything": ["goes"]}


def test_time_zone_setting_is_accepted_by_the_api(make_client, account):
    client = make_client(account)
    assert (
        client.patch("/api/account", {"settings": {"time_zone": "Asia/Phnom_Penh"}}, format="json").status_code == 204
    )
    account.refresh_from_db()
    assert account.settings["time_zone"] == "Asia/Phnom_Penh"


def test_an_unknown_time_zone_is_unprocessable(make_client, account):
    response = make_client(account).patch("/api/account", {"settings": {"time_zone": "Mars/Olympus"}}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"]["settings"] == [
        "time_zone must be a time zone name such as Asia/Phnom_Penh or UTC"
    ]
