"""/api/users, /api/accounts/:id/users and POST /api/users/:id/user_events."""

import pytest

from accounts.models import User
from tests.api_cases import ResourceAPICases
from tests.factories import UserFactory

USER_KEYS = {"id", "account_id", "metadata", "email", "created_at", "updated_at", "locale"}


class TestUsersAPI(ResourceAPICases):
    list_url = "/api/users"
    resource = "users"

    def make(self, account):
        return UserFactory(account=account)


def create(client, **fields):
    return client.post("/api/users", {"email": "kate@example.com", "password": "secret123", **fields}, format="json")


def test_create_user_returns_it_without_password(client_for, account):
    response = create(client_for, metadata={"foo": "bar"})
    assert response.status_code == 201
    body = response.json()
    assert USER_KEYS <= set(body)
    assert not {"password", "token"} & set(body)
    assert response["Location"] == f"/api/users/{body['id']}"
    assert (body["email"], body["account_id"], body["metadata"], body["locale"]) == (
        "kate@example.com",
        account.pk,
        {"foo": "bar"},
        "en",
    )
    user = User.objects.get(pk=body["id"])
    assert user.check_password("secret123")
    assert "secret123" not in user.password


def test_create_user_with_locale(client_for):
    assert create(client_for, locale="km").json()["locale"] == "km"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": None}, "email", None),
        ({"email": "not-an-email"}, "email", "is invalid"),
        ({"password": "123"}, "password", "is too short"),
        ({"locale": "fr"}, "locale", None),
        ({"metadata": "x"}, "metadata", "must be a hash"),
    ],
)
def test_create_user_is_unprocessable_when_input_is_bad(client_for, fields, field, message):
    payload = {"email": "kate@example.com", "password": "secret123", **fields}
    response = client_for.post("/api/users", {k: v for k, v in payload.items() if v is not None}, format="json")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert field in errors
    if message:
        assert errors[field] == [message]


def test_create_user_is_unprocessable_when_email_and_password_are_missing(client_for):
    response = client_for.post("/api/users", {}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"] == {"email": ["can't be blank"], "password": ["can't be blank"]}


def test_create_user_is_unprocessable_when_email_is_taken_in_any_account(client_for, other_account):
    UserFactory(account=other_account, email="kate@example.com")
    response = create(client_for, email="Kate@Example.com")
    assert response.status_code == 422
    assert response.json() == {"errors": {"email": ["has already been taken"]}}


def test_create_user_is_forbidden_when_token_lacks_users_write(make_client, account):
    response = create(make_client(account, permissions=["users_read"]))
    assert response.status_code == 403
    assert "users_write" in str(response.json()["errors"])


def test_create_user_is_unauthorized_when_no_credentials(anonymous, db):
    assert create(anonymous).status_code == 401


def test_super_admin_creates_a_user_in_another_account_with_account_id(admin, other_account):
    response = create(admin, account_id=other_account.pk)
    assert response.status_code == 201
    assert response.json()["account_id"] == other_account.pk


def test_create_user_ignores_account_id_when_caller_is_not_super_admin(client_for, account, other_account):
    assert create(client_for, account_id=other_account.pk).json()["account_id"] == account.pk


def test_show_user_returns_it_with_location(client_for, account):
    user = UserFactory(account=account, metadata={"a": 1})
    response = client_for.get(f"/api/users/{user.pk}")
    assert response.status_code == 200
    assert response["Location"] == f"/api/users/{user.pk}"
    assert response.json()["email"] == user.email


def test_update_user_changes_metadata_email_password_and_locale(client_for, account):
    user = UserFactory(account=account, metadata={"old": 1})
    response = client_for.patch(
        f"/api/users/{user.pk}",
        {
            "metadata": {"bar": "foo"},
            "metadata_merge_mode": "replace",
            "email": "new@example.com",
            "password": "another-secret",
            "locale": "km",
        },
        format="json",
    )
    assert response.status_code == 204
    assert response["Location"] == f"/api/users/{user.pk}"
    user.refresh_from_db()
    assert (user.metadata, user.email, user.locale) == ({"bar": "foo"}, "new@example.com", "km")
    assert user.check_password("another-secret")


def test_update_user_merges_metadata_by_default(client_for, account):
    user = UserFactory(account=account, metadata={"a": 1})
    client_for.patch(f"/api/users/{user.pk}", {"metadata": {"b": 2}}, format="json")
    user.refresh_from_db()
    assert user.metadata == {"a": 1, "b": 2}


def test_update_user_is_unprocessable_when_email_is_taken(client_for, account):
    UserFactory(email="taken@example.com")
    user = UserFactory(account=account)
    response = client_for.patch(f"/api/users/{user.pk}", {"email": "TAKEN@example.com"}, format="json")
    assert response.status_code == 422
    assert response.json() == {"errors": {"email": ["has already been taken"]}}


def test_update_user_keeps_its_own_email(client_for, account):
    user = UserFactory(account=account, email="me@example.com")
    assert client_for.patch(f"/api/users/{user.pk}", {"email": "me@example.com"}, format="json").status_code == 204


def test_update_user_is_unprocessable_when_locale_is_unknown(client_for, account):
    user = UserFactory(account=account)
    assert client_for.patch(f"/api/users/{user.pk}", {"locale": "xx"}, format="json").status_code == 422


def test_delete_user(client_for, account):
    user = UserFactory(account=account)
    response = client_for.delete(f"/api/users/{user.pk}")
    assert response.status_code == 204
    assert response["Location"] == "/api/users"
    assert not User.objects.filter(pk=user.pk).exists()


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_user_of_another_account_is_not_found(client_for, other_account, method):
    user = UserFactory(account=other_account)
    response = getattr(client_for, method)(f"/api/users/{user.pk}", {}, format="json")
    assert response.status_code == 404
    assert User.objects.filter(pk=user.pk).exists()


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_writing_a_user_is_forbidden_when_token_lacks_users_write(make_client, account, method):
    user = UserFactory(account=account)
    response = getattr(make_client(account, permissions=["users_read"]), method)(f"/api/users/{user.pk}")
    assert response.status_code == 403


def test_nested_list_shows_another_accounts_users_to_a_super_admin(admin, other_account):
    user = UserFactory(account=other_account)
    response = admin.get(f"/api/accounts/{other_account.pk}/users")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [user.pk]


def test_nested_list_shows_own_users_when_caller_is_not_super_admin(client_for, account, other_account):
    mine = UserFactory(account=account)
    UserFactory(account=other_account)
    response = client_for.get(f"/api/accounts/{other_account.pk}/users")
    assert [item["id"] for item in response.json()] == [mine.pk]


def test_nested_list_is_not_found_when_super_admin_names_an_unknown_account(admin):
    assert admin.get("/api/accounts/999999/users").status_code == 404


def test_nested_list_is_forbidden_when_token_lacks_users_read(make_client, account):
    assert make_client(account, permissions=["users_write"]).get(f"/api/accounts/{account.pk}/users").status_code == 403


# --- user_events ---------------------------------------------------------------------------------------------------


def test_invite_event_sends_an_invitation_email(client_for, account, mailoutbox):
    user = UserFactory(account=account, email="kate@example.com")
    response = client_for.post(f"/api/users/{user.pk}/user_events", {"event": "invite"}, format="json")
    assert response.status_code == 201
    assert response["Location"] == f"/api/users/{user.pk}"
    assert response.json()["id"] == user.pk
    assert USER_KEYS <= set(response.json())
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["kate@example.com"]
    assert "invited" in mailoutbox[0].subject
    assert "http://testserver/dashboard/invitations/" in mailoutbox[0].body  # a link to set a password
    user.refresh_from_db()
    assert user.invitation_sent_at is not None


@pytest.mark.parametrize("payload", [{"event": "explode"}, {}, {"event": ""}])
def test_user_event_is_unprocessable_when_event_is_not_invite(client_for, account, mailoutbox, payload):
    user = UserFactory(account=account)
    response = client_for.post(f"/api/users/{user.pk}/user_events", payload, format="json")
    assert response.status_code == 422
    assert "event" in response.json()["errors"]
    assert mailoutbox == []


def test_user_event_of_another_accounts_user_is_not_found(client_for, other_account, mailoutbox):
    user = UserFactory(account=other_account)
    response = client_for.post(f"/api/users/{user.pk}/user_events", {"event": "invite"}, format="json")
    assert response.status_code == 404
    assert mailoutbox == []


def test_user_event_is_forbidden_when_token_lacks_users_write(make_client, account, mailoutbox):
    user = UserFactory(account=account)
    client = make_client(account, permissions=["users_read"])
    assert client.post(f"/api/users/{user.pk}/user_events", {"event": "invite"}, format="json").status_code == 403
    assert mailoutbox == []


def test_user_event_is_unauthorized_when_no_credentials(anonymous, account):
    user = UserFactory(account=account)
    assert anonymous.post(f"/api/users/{user.pk}/user_events", {"event": "invite"}, format="json").status_code == 401
