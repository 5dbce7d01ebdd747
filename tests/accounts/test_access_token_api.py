"""/api/access_tokens and /api/accounts/:id/access_tokens."""

import pytest

from accounts.models import AccessToken, Permission
from tests.api_cases import ResourceAPICases
from tests.factories import AccessTokenFactory, AccountFactory

TOKEN_KEYS = {"id", "token", "created_at", "updated_at", "metadata", "permissions"}


class TestAccessTokensAPI(ResourceAPICases):
    list_url = "/api/access_tokens"
    resource = "access_tokens"

    def make(self, account):
        return AccessTokenFactory(account=account, permissions=[])


def test_create_token_returns_it_with_location(client_for, account):
    response = client_for.post(
        "/api/access_tokens", {"metadata": {"foo": "bar"}, "permissions": ["contacts_write"]}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == TOKEN_KEYS
    assert response["Location"] == f"/api/access_tokens/{body['id']}"
    assert body["metadata"] == {"foo": "bar"}
    assert body["permissions"] == ["contacts_write"]
    token = AccessToken.objects.get(pk=body["id"])
    assert (token.token, token.account, token.created_by) == (body["token"], account, account)


def test_create_token_without_permissions_holds_none(client_for):
    response = client_for.post("/api/access_tokens", {}, format="json")
    assert response.status_code == 201
    assert response.json()["permissions"] == []


def test_created_token_authenticates_with_its_permissions(client_for):
    token = client_for.post("/api/access_tokens", {"permissions": ["contacts_read"]}, format="json").json()["token"]
    client_for.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client_for.get("/api/contacts").status_code == 200
    assert client_for.get("/api/access_tokens").status_code == 403


def test_create_token_is_unprocessable_when_permission_is_unknown(client_for):
    response = client_for.post("/api/access_tokens", {"permissions": ["contacts_read", "root"]}, format="json")
    assert response.status_code == 422
    assert "root" in str(response.json()["errors"]["permissions"])


def test_create_token_is_unprocessable_when_permissions_is_not_a_list(client_for):
    response = client_for.post("/api/access_tokens", {"permissions": {"a": "b"}}, format="json")
    assert response.status_code == 422
    assert "permissions" in response.json()["errors"]


def test_create_token_is_unprocessable_when_granting_a_permission_the_caller_lacks(make_client, account):
    client = make_client(account, permissions=["access_tokens_write", "contacts_read"])
    response = client.post("/api/access_tokens", {"permissions": ["contacts_read", "contacts_write"]}, format="json")
    assert response.status_code == 422
    assert "contacts_write" in str(response.json()["errors"]["permissions"])
    assert AccessToken.objects.filter(account=account).count() == 1


def test_create_token_grants_permissions_the_caller_holds(make_client, account):
    client = make_client(account, permissions=["access_tokens_write", "contacts_read"])
    response = client.post("/api/access_tokens", {"permissions": ["contacts_read"]}, format="json")
    assert response.status_code == 201


def test_super_admin_grants_only_the_permissions_its_token_holds(make_client):
    """Being a super admin widens which account a token is for, not what it may grant (see
    test_access_token_escalation.py for the whole matrix)."""
    client = make_client(AccountFactory(permissions=["super_admin"]), permissions=["access_tokens_write"])
    response = client.post("/api/access_tokens", {"permissions": list(Permission.values)}, format="json")
    assert response.status_code == 422
    assert "accounts_write" in str(response.json()["errors"]["permissions"])
    response = client.post("/api/access_tokens", {"permissions": ["access_tokens_write"]}, format="json")
    assert response.status_code == 201


def test_super_admin_creates_a_token_for_another_account_with_account_id(admin, other_account):
    response = admin.post("/api/access_tokens", {"account_id": other_account.pk}, format="json")
    assert response.status_code == 201
    token = AccessToken.objects.get(pk=response.json()["id"])
    assert token.account == other_account
    assert token.created_by == admin.account


def test_super_admin_creates_a_token_for_another_account_with_legacy_account_sid_form(admin, other_account):
    response = admin.generic(
        "POST",
        "/api/access_tokens",
        f"account_sid={other_account.pk}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201
    assert AccessToken.objects.get(pk=response.json()["id"]).account == other_account


def test_create_token_is_unprocessable_when_super_admin_names_an_unknown_account(admin):
    response = admin.post("/api/access_tokens", {"account_id": 999999}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"account_id": ["must exist"]}}


def test_create_token_ignores_account_id_when_caller_is_not_super_admin(client_for, account, other_account):
    response = client_for.post("/api/access_tokens", {"account_id": other_account.pk}, format="json")
    assert response.status_code == 201
    assert AccessToken.objects.get(pk=response.json()["id"]).account == account
    assert not AccessToken.objects.filter(account=other_account).exists()


def test_create_token_is_forbidden_when_token_lacks_access_tokens_write(make_client, account):
    client = make_client(account, permissions=["access_tokens_read"])
    response = client.post("/api/access_tokens", {}, format="json")
    assert response.status_code == 403
    assert "access_tokens_write" in str(response.json()["errors"])


def test_create_token_is_unauthorized_when_no_credentials(anonymous, db):
    assert anonymous.post("/api/access_tokens", {}, format="json").status_code == 401


def test_show_token_returns_it_with_location(client_for, account):
    token = AccessTokenFactory(account=account, permissions=["access_tokens_read", "access_tokens_write"])
    response = client_for.get(f"/api/access_tokens/{token.pk}")
    assert response.status_code == 200
    assert response["Location"] == f"/api/access_tokens/{token.pk}"
    assert response.json()["permissions"] == ["access_tokens_read", "access_tokens_write"]
    assert response.json()["token"] == token.token


def test_list_tokens_filters_on_metadata(client_for, account):
    wanted = AccessTokenFactory(account=account, metadata={"foo": "bar"})
    response = client_for.get("/api/access_tokens?q[metadata][foo]=bar")
    assert (response.status_code, response["Total"]) == (200, "1")
    assert [item["id"] for item in response.json()] == [wanted.pk]


def test_update_token_replaces_metadata_and_permissions(client_for, account):
    token = AccessTokenFactory(account=account, metadata={"old": 1}, permissions=[])
    response = client_for.patch(
        f"/api/access_tokens/{token.pk}",
        {"metadata": {"foo": "bar"}, "metadata_merge_mode": "replace", "permissions": ["contacts_read"]},
        format="json",
    )
    assert response.status_code == 204
    assert response["Location"] == f"/api/access_tokens/{token.pk}"
    token.refresh_from_db()
    assert (token.metadata, token.permissions) == ({"foo": "bar"}, ["contacts_read"])


def test_update_token_is_unprocessable_when_granting_a_permission_the_caller_lacks(make_client, account):
    client = make_client(account, permissions=["access_tokens_write"])
    token = AccessTokenFactory(account=account, permissions=[])
    response = client.patch(f"/api/access_tokens/{token.pk}", {"permissions": ["accounts_write"]}, format="json")
    assert response.status_code == 422
    token.refresh_from_db()
    assert token.permissions == []


def test_update_token_is_unprocessable_when_permission_is_unknown(client_for, account):
    token = AccessTokenFactory(account=account)
    response = client_for.patch(f"/api/access_tokens/{token.pk}", {"permissions": ["nope"]}, format="json")
    assert response.status_code == 422


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_token_of_another_account_is_not_found(client_for, other_account, method):
    token = AccessTokenFactory(account=other_account)
    response = getattr(client_for, method)(f"/api/access_tokens/{token.pk}", {}, format="json")
    assert response.status_code == 404
    assert AccessToken.objects.filter(pk=token.pk).exists()


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_writing_a_token_is_forbidden_when_token_lacks_access_tokens_write(make_client, account, method):
    client = make_client(account, permissions=["access_tokens_read"])
    token = AccessTokenFactory(account=account)
    response = getattr(client, method)(f"/api/access_tokens/{token.pk}", {}, format="json")
    assert response.status_code == 403


def test_delete_token_by_its_creator(client_for, account):
    token = AccessTokenFactory(account=account, created_by=account)
    response = client_for.delete(f"/api/access_tokens/{token.pk}")
    assert response.status_code == 204
    assert response["Location"] == "/api/access_tokens"
    assert not AccessToken.objects.filter(pk=token.pk).exists()


def test_delete_token_is_unprocessable_when_caller_did_not_create_it(client_for, account):
    super_admin = AccountFactory(permissions=["super_admin"])
    token = AccessTokenFactory(account=account, created_by=super_admin)
    response = client_for.delete(f"/api/access_tokens/{token.pk}")
    assert response.status_code == 422
    assert response.json() == {"errors": {"base": ["Cannot delete record because the destroyer is not the creator"]}}
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_super_admin_deletes_another_accounts_token_named_with_account_id(admin, other_account):
    token = AccessTokenFactory(account=other_account, created_by=other_account)
    response = admin.delete(f"/api/access_tokens/{token.pk}?account_id={other_account.pk}")
    assert response.status_code == 204
    assert not AccessToken.objects.filter(pk=token.pk).exists()


def test_super_admin_deletes_a_token_of_its_account_that_another_account_created(admin, other_account):
    token = AccessTokenFactory(account=admin.account, created_by=other_account)
    assert admin.delete(f"/api/access_tokens/{token.pk}").status_code == 204


def test_account_id_query_is_ignored_when_caller_is_not_super_admin(client_for, other_account):
    token = AccessTokenFactory(account=other_account)
    assert client_for.delete(f"/api/access_tokens/{token.pk}?account_id={other_account.pk}").status_code == 404
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_account_id_query_is_not_found_when_it_is_not_a_number(admin):
    assert admin.get("/api/access_tokens?account_id=abc").status_code == 404


def test_nested_list_shows_another_accounts_tokens_to_a_super_admin(admin, other_account):
    token = AccessTokenFactory(account=other_account)
    response = admin.get(f"/api/accounts/{other_account.pk}/access_tokens")
    assert response.status_code == 200
    assert response["Total"] == "1"
    assert [item["id"] for item in response.json()] == [token.pk]


def test_nested_list_is_not_found_when_super_admin_names_an_unknown_account(admin):
    assert admin.get("/api/accounts/999999/access_tokens").status_code == 404


def test_nested_list_shows_own_tokens_when_caller_is_not_super_admin(client_for, account, other_account):
    AccessTokenFactory(account=other_account)
    response = client_for.get(f"/api/accounts/{other_account.pk}/access_tokens")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [client_for.token.pk]


def test_nested_list_is_forbidden_when_token_lacks_access_tokens_read(make_client, account):
    client = make_client(account, permissions=["access_tokens_write"])
    assert client.get(f"/api/accounts/{account.pk}/access_tokens").status_code == 403


def test_nested_list_is_unauthorized_when_no_credentials(anonymous, account):
    assert anonymous.get(f"/api/accounts/{account.pk}/access_tokens").status_code == 401
