"""Sign-in behind django-axes, password reset, invitations, the language switch and the super-admin account switch."""

import re

import pytest
from django.test import Client

from accounts.invitations import invitation_token
from accounts.models import User
from accounts.services import user_invite
from tests.dashboard.conftest import PASSWORD
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, email, password):
    return client.post("/dashboard/login", {"username": email, "password": password}, REMOTE_ADDR="10.0.0.1")


def test_login_accepts_the_email_in_any_case(dashboard_user):
    client = Client()
    assert sign_in(client, dashboard_user.email.upper(), PASSWORD).status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_login_locks_out_after_the_failure_limit_with_a_message(dashboard_user, settings):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, dashboard_user.email, "wrong").status_code == 200
    response = sign_in(client, dashboard_user.email, "wrong")
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    # locked out: even the right password is refused now
    assert sign_in(client, dashboard_user.email, PASSWORD).status_code == 429
    # another address for the same email, or another email from this address, is not locked
    other = client.post(
        "/dashboard/login", {"username": dashboard_user.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.2"
    )
    assert other.status_code == 302


def test_lockout_counts_emails_in_any_case_together(dashboard_user, settings):
    client = Client()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        email = dashboard_user.email.upper() if attempt % 2 else dashboard_user.email
        response = sign_in(client, email, "wrong")
    assert response.status_code == 429


def test_api_token_auth_is_not_rate_limited_by_axes(client_for, anonymous, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 2):
        anonymous.credentials(HTTP_AUTHORIZATION="Bearer wrong")
        assert anonymous.get("/api/contacts").status_code == 401
    assert client_for.get("/api/contacts").status_code == 200


def test_password_reset_emails_a_link_that_sets_a_new_password(dashboard_user, mailoutbox):
    client = Client()
    response = client.post("/dashboard/password_reset", {"email": dashboard_user.email.upper()})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/password_reset/done"
    link = re.search(r"http://testserver(/dashboard/password_reset/\S+)", mailoutbox[0].body).group(1)

    form = client.get(link, follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "a brand new secret", "new_password2": "a brand new secret"})
    assert done.status_code == 302
    dashboard_user.refresh_from_db()
    assert dashboard_user.check_password("a brand new secret")


def test_password_reset_says_nothing_about_unknown_emails(db, mailoutbox):
    response = Client().post("/dashboard/password_reset", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []


def test_password_reset_shows_a_bad_email_next_to_the_field(db):
    response = Client().post("/dashboard/password_reset", {"email": "not an email"})
    assert response.status_code == 200
    assert b'<ul class="errorlist' in response.content


def test_password_reset_with_a_bad_link_says_so(dashboard_user):
    response = Client().get("/dashboard/password_reset/MQ/bad-token")
    assert response.status_code == 200
    assert b"invalid or has expired" in response.content


def test_invitation_sets_the_password_and_signs_in(db, mailoutbox):
    user = UserFactory(password=None)
    user.set_unusable_password()
    user.save()
    user_invite(user=user)
    client = Client()
    url = f"/dashboard/invitations/{invitation_token(User.objects.get(pk=user.pk))}"

    assert client.get(url).status_code == 200
    response = client.post(url, {"new_password1": "my own long secret", "new_password2": "my own long secret"})

    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200
    assert User.objects.get(pk=user.pk).check_password("my own long secret")
    assert client.get(url).status_code == 404  # used


def test_invitation_shows_mismatched_passwords_next_to_the_field(db):
    user = UserFactory()
    response = Client().post(
        f"/dashboard/invitations/{invitation_token(user)}",
        {"new_password1": "my own long secret", "new_password2": "something else entirely"},
    )
    assert response.status_code == 200
    assert b'<ul class="errorlist' in response.content


@pytest.mark.parametrize("token", ["junk", "MQ.1-2", "x" * 300])
def test_a_bad_invitation_link_is_a_404_page(db, token):
    response = Client().get(f"/dashboard/invitations/{token}")
    assert response.status_code == 404
    assert b"invalid" in response.content


def test_language_switch_stores_the_users_choice_and_renders_khmer(dashboard_client):
    response = dashboard_client.post("/dashboard/language", {"language": "km", "next": "/dashboard/users"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/users"
    dashboard_client.user.refresh_from_db()
    assert dashboard_client.user.locale == "km"
    page = dashboard_client.get("/dashboard/users")
    assert page["Content-Language"] == "km"
    assert '<html lang="km">' in page.content.decode()


def test_language_switch_works_before_sign_in_with_a_cookie(db):
    client = Client()
    response = client.post("/dashboard/language", {"language": "km", "next": "/dashboard/login"})
    assert response.cookies["django_language"].value == "km"
    assert client.get("/dashboard/login")["Content-Language"] == "km"


def test_language_switch_refuses_an_unknown_language_and_an_outside_next(dashboard_client):
    assert dashboard_client.post("/dashboard/language", {"language": "xx"}).status_code == 400
    response = dashboard_client.post("/dashboard/language", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/dashboard/"


def test_language_switch_enforces_csrf(csrf_client):
    assert csrf_client.post("/dashboard/language", {"language": "km"}).status_code == 403


def super_admin_client():
    user = UserFactory(account=AccountFactory(permissions=["super_admin"]))
    client = Client()
    client.force_login(user)
    return client


def test_super_admin_switches_the_account_being_viewed(db):
    client = super_admin_client()
    other = AccountFactory()
    response = client.post("/dashboard/switch_account", {"account_id": other.pk})
    assert response.status_code == 302
    invited = client.post("/dashboard/users", {"email": "seen@example.com", "locale": "en"})
    assert invited.status_code == 302
    assert User.objects.get(email="seen@example.com").account == other


def test_switch_account_shows_an_unknown_id_next_to_the_field(db):
    response = super_admin_client().post("/dashboard/switch_account", {"account_id": 10**12})
    assert response.status_code == 422
    assert b"No account has this id" in response.content


def test_switch_account_is_a_404_for_other_users_and_a_login_for_anonymous(dashboard_client):
    assert dashboard_client.get("/dashboard/switch_account").status_code == 404
    assert dashboard_client.post("/dashboard/switch_account", {"account_id": 1}).status_code == 404
    assert Client().get("/dashboard/switch_account").status_code == 302


def test_a_session_switch_is_ignored_for_an_ordinary_user(dashboard_client):
    other = AccountFactory()
    session = dashboard_client.session
    session["dashboard_account_id"] = other.pk
    session.save()
    dashboard_client.post("/dashboard/users", {"email": "mine@example.com", "locale": "en"})
    assert User.objects.get(email="mine@example.com").account == dashboard_client.account


@pytest.mark.parametrize(
    ("public_url", "secure_cookies", "expected"),
    [
        ("https://scfm.example.org", None, True),
        ("https://scfm.example.org", "", True),
        ("https://scfm.example.org", "false", False),
        ("http://10.0.0.5:8000", None, False),
        ("http://10.0.0.5:8000", "true", True),
    ],
)
def test_secure_cookies_follow_the_public_url_unless_set(monkeypatch, public_url, secure_cookies, expected):
    import importlib

    import scfm.settings as module

    monkeypatch.setenv("SCFM_PUBLIC_URL", public_url)
    if secure_cookies is not None:
        monkeypatch.setenv("SCFM_SECURE_COOKIES", secure_cookies)
    try:
        reloaded = importlib.reload(module)
        assert (reloaded.SESSION_COOKIE_SECURE, reloaded.CSRF_COOKIE_SECURE) == (expected, expected)
        assert reloaded.CSRF_TRUSTED_ORIGINS == [public_url]
    finally:
        monkeypatch.undo()
        assert not importlib.reload(module).SESSION_COOKIE_SECURE
