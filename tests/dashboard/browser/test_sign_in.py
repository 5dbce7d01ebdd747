"""Sign in through the real login page in Chromium."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_signs_in_and_sees_the_sidebar(page, sign_in):
    user = UserFactory()
    sign_in(user)
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Callouts", "Contacts", "Phone calls", "Recordings", "Users", "Account settings", "API keys"):
        assert nav.get_by_role("link", name=name).is_visible()
    assert page.evaluate("typeof htmx") == "object"  # the vendored htmx loaded from the app itself
