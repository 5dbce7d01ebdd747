"""Staff create a callout, start it after the confirmation and see its live progress and chart, in Chromium."""

import pytest

from callouts import counters
from callouts.models import Callout, CalloutEvent
from tests.factories import CalloutFactory, CalloutParticipationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_create_a_callout_and_start_it_after_the_confirmation(page, sign_in):
    user = UserFactory()
    sign_in(user)
    page.get_by_role("link", name="New callout").click()
    page.get_by_label("Name").fill("Flood warning")
    page.get_by_label("Call flow").select_option("CallFlowLogic::PlayMessage")
    page.get_by_label("Audio URL").fill("https://example.org/flood.mp3")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Callout created.").wait_for()
    callout = Callout.objects.get(account=user.account)
    CalloutParticipationFactory.create_batch(3, callout=callout)

    page.get_by_role("link", name="Start").click()
    assert page.get_by_text("3 people will be called.").is_visible()
    page.get_by_role("button", name="Yes, Start").click()
    page.get_by_text("Done: Start.").wait_for()
    assert page.locator("#progress .badge").first.inner_text() == "Running"
    assert page.locator("table.events").get_by_text(user.email).is_visible()
    callout.refresh_from_db()
    assert callout.status == "running"
    assert CalloutEvent.objects.get(callout=callout).user == user


def test_a_form_error_shows_next_to_its_field(page, sign_in):
    sign_in(UserFactory())
    page.goto("/dashboard/callouts/new")
    page.get_by_label("Name").fill("x")
    page.get_by_label("Settings").fill("[1, 2]")
    page.get_by_role("button", name="Save").click()
    error = page.locator(".field:has(#id_settings) .errorlist")
    assert error.inner_text() == "must be a JSON object"


def test_progress_refreshes_by_itself_and_the_chart_draws(page, sign_in):
    user = UserFactory()
    callout = CalloutFactory(account=user.account, status="running", metadata={"name": "Live"})
    CalloutParticipationFactory.create_batch(5, callout=callout)
    sign_in(user)
    page.goto(f"/dashboard/callouts/{callout.pk}")
    assert page.locator('[data-stat="answered"]').inner_text() == "0"
    page.locator("#chart canvas").wait_for()  # uPlot drew the series

    counters.counts_add(callout.pk, {counters.ANSWERED: 2, counters.CALL_KEYS["completed"]: 2})
    page.wait_for_function("document.querySelector('[data-stat=\"answered\"]').textContent.trim() === '2'")
    assert page.locator('[data-stat="still_to_call"]').inner_text() == "3"
    page.wait_for_function("Number(document.getElementById('chart').dataset.total) >= 2", timeout=15_000)


def test_the_pages_fit_a_phone_screen(browser, live_server, sign_in, page):
    user = UserFactory()
    callout = CalloutFactory(account=user.account, metadata={"name": "Phone"})
    sign_in(user)
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/dashboard/", f"/dashboard/callouts/{callout.pk}", "/dashboard/callouts/new"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
