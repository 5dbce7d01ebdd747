"""Users, Account settings and API keys pages: anonymous, tenancy (another account's ids are 404), bad input next to
the field, CSRF, and the queries each page costs."""

import pytest
from django.test import Client

from accounts.models import AccessToken, Account, Permission, User
from tests.factories import AccessTokenFactory, AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES = ["/dashboard/users", "/dashboard/settings", "/dashboard/api_keys"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_anonymous_visitors_to_login(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/login?next={path}"


@pytest.mark.parametrize(("path", "queries"), [(PAGES[0], 3), (PAGES[1], 2), (PAGES[2], 3)])
def test_pages_answer_in_a_fixed_number_of_queries(dashboard_client, django_assert_num_queries, path, queries):
    UserFactory.create_batch(3, account=dashboard_client.account)
    AccessTokenFactory.create_batch(3, account=dashboard_client.account)
    with django_assert_num_queries(queries):  # session, user with account, the list (+ the popped session write)
        assert dashboard_client.get(path).status_code == 200


# -- users -------------------------------------------------------------------------------------------------------------
def test_users_lists_only_the_accounts_users(dashboard_client):
    mine = UserFactory(account=dashboard_client.account)
    theirs = UserFactory()
    content = dashboard_client.get("/dashboard/users").content.decode()
    assert mine.email in content
    assert theirs.email not in content


def test_invite_creates_a_passwordless_user_and_emails_the_link(
    dashboard_client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = dashboard_client.post("/dashboard/users", {"email": "new@example.com", "locale": "km"})
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert (user.account, user.locale, user.has_usable_password()) == (dashboard_client.account, "km", False)
    assert "http://testserver/dashboard/invitations/" in mailoutbox[0].body
    follow = dashboard_client.get("/dashboard/users").content.decode()
    assert "Invitation sent to new@example.com." in follow


@pytest.mark.parametrize(
    ("data", "message"),
    [({"email": "nope", "locale": "en"}, "Enter a valid email address."), ({"email": "", "locale": "en"}, "required")],
)
def test_invite_shows_bad_input_next_to_the_field(dashboard_client, data, message):
    response = dashboard_client.post("/dashboard/users", data)
    assert response.status_code == 422
    assert message in response.content.decode()


def test_invite_shows_a_taken_email_next_to_the_field(dashboard_client):
    UserFactory(email="taken@example.com")
    response = dashboard_client.post("/dashboard/users", {"email": "taken@example.com", "locale": "en"})
    assert response.status_code == 422
    assert "has already been taken" in response.content.decode()


def test_remove_user_confirms_then_deletes(dashboard_client):
    user = UserFactory(account=dashboard_client.account)
    assert dashboard_client.get(f"/dashboard/users/{user.pk}/delete").status_code == 200
    assert dashboard_client.post(f"/dashboard/users/{user.pk}/delete").status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()


def test_remove_user_of_another_account_is_a_404(dashboard_client):
    user = UserFactory()
    assert dashboard_client.get(f"/dashboard/users/{user.pk}/delete").status_code == 404
    assert dashboard_client.post(f"/dashboard/users/{user.pk}/delete").status_code == 404
    assert User.objects.filter(pk=user.pk).exists()


def test_you_cannot_remove_yourself(dashboard_client):
    dashboard_client.post(f"/dashboard/users/{dashboard_client.user.pk}/delete")
    assert User.objects.filter(pk=dashboard_client.user.pk).exists()


def test_users_forms_enforce_csrf(csrf_client):
    assert csrf_client.post("/dashboard/users", {"email": "x@example.com", "locale": "en"}).status_code == 403


# -- account settings --------------------------------------------------------------------------------------------
def settings_form(**changes):
    data = {
        "platform_provider_name": "twilio",
        "twilio_account_sid": "AC123",
        "twilio_auth_token": "",
        "call_flow_logic": "CallFlowLogic::HelloWorld",
        "from_phone_number": "1294",
        "phone_call_queue_limit": "20",
        "max_calls_per_second": "2.5",
        "max_phone_calls_for_callout_participation": "3",
        "retry_statuses": ["busy", "failed"],
        "retry_backoff_seconds": "600",
        "time_zone": "Asia/Phnom_Penh",
    }
    data.update(changes)
    return data


def test_settings_saves_provider_dialling_settings_and_keeps_free_form_keys(dashboard_client):
    account = dashboard_client.account
    Account.objects.filter(pk=account.pk).update(settings={"custom": {"x": 1}, "simulator_outcomes": {"busy": 1}})
    response = dashboard_client.post("/dashboard/settings", settings_form(twilio_auth_token="secret-token-9876"))
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.platform_provider_name == "twilio"
    assert account.twilio_auth_token == "secret-token-9876"
    assert account.settings == {
        "custom": {"x": 1},
        "simulator_outcomes": {"busy": 1},
        "from_phone_number": "1294",
        "phone_call_queue_limit": 20,
        "max_calls_per_second": 2.5,
        "max_phone_calls_for_callout_participation": 3,
        "retry_statuses": ["busy", "failed"],
        "retry_backoff_seconds": 600,
        "time_zone": "Asia/Phnom_Penh",
    }


def test_settings_never_shows_a_saved_credential_and_a_blank_one_keeps_it(dashboard_client):
    account = dashboard_client.account
    Account.objects.filter(pk=account.pk).update(twilio_auth_token="secret-token-9876")
    page = dashboard_client.get("/dashboard/settings").content.decode()
    assert "secret-token-9876" not in page
    assert "••••9876" in page
    dashboard_client.post("/dashboard/settings", settings_form())
    account.refresh_from_db()
    assert account.twilio_auth_token == "secret-token-9876"


def test_settings_can_forget_a_saved_credential(dashboard_client):
    Account.objects.filter(pk=dashboard_client.account.pk).update(twilio_auth_token="secret-token-9876")
    dashboard_client.post("/dashboard/settings", settings_form(clear_credentials=["twilio_auth_token"]))
    assert Account.objects.get(pk=dashboard_client.account.pk).twilio_auth_token is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "max_phone_calls_for_callout_participation",
            "11",
            "max_phone_calls_for_callout_participation must be between 0 and 10",
        ),
        ("phone_call_queue_limit", "2.5", "phone_call_queue_limit must be a number"),
        ("max_calls_per_second", "lots", "max_calls_per_second must be a number"),
        ("time_zone", "Mars/Olympus", "time_zone must be a time zone name such as Asia/Phnom_Penh or UTC"),
        ("call_flow_logic", "CallFlowLogic::Nope", "Select a valid choice."),
    ],
)
def test_settings_shows_the_apis_error_next_to_the_field(dashboard_client, field, value, message):
    before = Account.objects.get(pk=dashboard_client.account.pk).settings
    response = dashboard_client.post("/dashboard/settings", settings_form(**{field: value}))
    assert response.status_code == 422
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert Account.objects.get(pk=dashboard_client.account.pk).settings == before


def test_settings_shows_each_numbers_range_and_unit(dashboard_client):
    page = dashboard_client.get("/dashboard/settings").content.decode()
    assert "0 to 10 calls" in page
    assert "0 to 2,592,000 seconds" in page


def test_settings_shows_a_taken_sid_as_an_error(dashboard_client):
    AccountFactory(twilio_account_sid="AC-TAKEN")
    response = dashboard_client.post("/dashboard/settings", settings_form(twilio_account_sid="ac-taken"))
    assert response.status_code == 422
    assert "has already been taken" in response.content.decode()


def test_settings_enforces_csrf(csrf_client):
    assert csrf_client.post("/dashboard/settings", settings_form()).status_code == 403


# -- API keys ----------------------------------------------------------------------------------------------------
def test_api_key_is_shown_in_full_once_then_masked(dashboard_client):
    response = dashboard_client.post(
        "/dashboard/api_keys", {"name": "reporting", "permissions": ["contacts_read", "callouts_read"]}
    )
    assert response.status_code == 302
    token = AccessToken.objects.get(account=dashboard_client.account)
    assert token.permissions == ["callouts_read", "contacts_read"]
    assert token.metadata == {"name": "reporting"}
    first = dashboard_client.get("/dashboard/api_keys").content.decode()
    assert token.token in first
    second = dashboard_client.get("/dashboard/api_keys").content.decode()
    assert token.token not in second
    assert f"••••{token.token[-4:]}" in second


def test_api_key_form_offers_every_permission_the_user_holds_and_refuses_others(dashboard_client):
    page = dashboard_client.get("/dashboard/api_keys").content.decode()
    for permission in Permission.values:
        assert f'value="{permission}"' in page
    response = dashboard_client.post("/dashboard/api_keys", {"permissions": ["contacts_read", "super_admin"]})
    assert response.status_code == 422
    assert "super_admin is not one of the available choices" in response.content.decode()
    assert not AccessToken.objects.filter(account=dashboard_client.account).exists()


def test_api_key_needs_a_permission(dashboard_client):
    response = dashboard_client.post("/dashboard/api_keys", {"name": "x"})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


def test_revoke_api_key_confirms_then_deletes(dashboard_client):
    token = AccessTokenFactory(account=dashboard_client.account, created_by=dashboard_client.account)
    assert dashboard_client.get(f"/dashboard/api_keys/{token.pk}/delete").status_code == 200
    assert dashboard_client.post(f"/dashboard/api_keys/{token.pk}/delete").status_code == 302
    assert not AccessToken.objects.filter(pk=token.pk).exists()


def test_revoke_api_key_of_another_account_is_a_404(dashboard_client):
    token = AccessTokenFactory()
    assert dashboard_client.get(f"/dashboard/api_keys/{token.pk}/delete").status_code == 404
    assert dashboard_client.post(f"/dashboard/api_keys/{token.pk}/delete").status_code == 404
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_api_keys_enforce_csrf(csrf_client):
    assert csrf_client.post("/dashboard/api_keys", {"permissions": ["contacts_read"]}).status_code == 403


def test_settings_offers_the_zone_names_and_shows_the_saved_one(dashboard_client):
    Account.objects.filter(pk=dashboard_client.account.pk).update(settings={"time_zone": "Asia/Phnom_Penh"})
    page = dashboard_client.get("/dashboard/settings").content.decode()
    assert '<option value="Asia/Bangkok">' in page
    assert 'value="Asia/Phnom_Penh"' in page
