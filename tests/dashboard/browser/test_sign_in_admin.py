"""In Chromium: a wrong password is refused, then the email is locked out; switching to Khmer; an invitation link."""

import pytest

from accounts.invitations import invitation_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_wrong_password_is_refused_then_locked_out(page, settings):
    user = UserFactory()
    page.goto("/dashboard/login")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill("not my password")
        page.get_by_role("button", name="Sign in").click()
        assert page.get_by_role("alert").filter(has_text="Please enter a correct").is_visible()

    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    assert page.locator("#lockout").is_visible()
    assert "Too many failed sign-ins" in page.locator("#lockout").inner_text()

    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("secret123")  # the right one: still locked out
    page.get_by_role("button", name="Sign in").click()
    assert page.locator("#lockout").is_visible()
    assert page.url.endswith("/dashboard/login")


def test_language_switch_to_khmer_sticks_to_the_user(page, sign_in):
    user = UserFactory()
    sign_in(user)
    page.goto("/dashboard/users")
    page.get_by_role("button", name="ខ្មែរ").click()
    page.wait_for_url("**/dashboard/users")
    assert page.locator("html").get_attribute("lang") == "km"
    assert page.get_by_role("heading", name="អ្នកប្រើប្រាស់", exact=True).is_visible()
    assert page.get_by_role("navigation").get_by_role("link", name="ការកំណត់គណនី").is_visible()
    user.refresh_from_db()
    assert user.locale == "km"
    # the font that renders Khmer is served by the app itself
    loaded = page.evaluate("document.fonts.load('16px \"Noto Sans Khmer\"', 'ខ្មែរ').then(faces => faces.length)")
    assert loaded >= 1
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/dashboard/users")
    assert page.get_by_role("heading", name="Users", exact=True).is_visible()


def test_invited_user_sets_a_password_and_lands_signed_in(page):
    user = UserFactory()
    user.set_unusable_password()
    user.save()
    page.goto(f"/dashboard/invitations/{invitation_token(user)}")
    page.get_by_label("New password", exact=True).fill("a long fresh secret")
    page.get_by_label("New password again").fill("a long fresh secret")
    page.get_by_role("button", name="Set the password").click()
    page.wait_for_url("**/dashboard/")
    assert page.get_by_role("status").filter(has_text="Your password is set").is_visible()
