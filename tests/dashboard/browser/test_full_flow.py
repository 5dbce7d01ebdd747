"""The journey of issue 14, end to end in Chromium with a real Celery worker (and its beat) behind the live server:
sign in -> import a CSV -> create a callout -> populate it with a filter (the preview count) -> rehearse it on the
simulator -> watch the progress reach the end and the chart draw -> pause, stop; switch to Khmer; another account's
callout is a 404; a wrong password is refused, then rate-limited."""

import pytest
from django.conf import settings

from accounts.models import Account
from callouts.models import Callout, CalloutParticipation
from contacts.models import Contact
from phone_calls.models import PhoneCall
from tests.factories import CalloutFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

CSV = (
    "msisdn,province,households:number\n"
    "+855 12 345 601,Kampot,3\n"
    "+855 12 345 602,Kampot,5\n"
    "+855 12 345 603,Kampot,2\n"
    "+855 12 345 604,Takeo,4\n"
    "not a number,Kampot,1\n"
)


def simulator_account() -> Account:
    """An account whose calls the simulator answers quickly (the rehearsal dials through it whatever the provider)."""
    return Account.objects.create(
        settings={
            "max_calls_per_second": 0,
            "simulator_outcomes": {"completed": 1},
            "simulator_delay_seconds": 0.5,
            "simulator_call_duration": 1,
        }
    )


def test_staff_run_a_rehearsal_from_csv_to_the_end(page, sign_in, celery_worker, tmp_path):
    user = UserFactory(account=simulator_account())
    sign_in(user)

    # import a CSV: 4 contacts, one rejected row with its line number
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_text(CSV)
    page.goto("/dashboard/contacts/import")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_function(
        "document.getElementById('import-status') && !document.querySelector('#import-progress[hx-get]')",
        timeout=60_000,
    )
    assert page.locator("#rejected-rows").get_by_text("6").first.is_visible()  # the bad row is line 6
    assert Contact.objects.filter(account=user.account).count() == 4

    # create a callout
    page.goto("/dashboard/callouts/new")
    page.get_by_label("Name").fill("Flood warning Kampot")
    page.get_by_label("Call flow").select_option("CallFlowLogic::PlayMessage")
    page.get_by_label("Audio URL").fill("https://example.org/flood.mp3")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Callout created.").wait_for()
    callout = Callout.objects.get(account=user.account, is_rehearsal=False)

    # populate with a filter: the preview counts 3 before anything is queued
    page.get_by_role("link", name="Populate").click()
    page.get_by_label("Metadata key").first.fill("province")
    page.get_by_label("Value").first.fill("Kampot")
    page.locator('#preview-result [data-count="3"]').wait_for()
    assert CalloutParticipation.objects.filter(callout=callout).count() == 0
    page.get_by_role("button", name="Add these contacts to the callout").click()
    _wait_until(lambda: CalloutParticipation.objects.filter(callout=callout).count() == 3, "population never ran")

    # rehearse: a labelled copy that dials through the simulator
    page.goto(f"/dashboard/callouts/{callout.pk}")
    page.get_by_role("link", name="Rehearse").click()
    page.get_by_role("button", name="Make a rehearsal").click()
    page.get_by_text("Rehearsal created").wait_for()
    rehearsal = Callout.objects.get(account=user.account, is_rehearsal=True)
    assert page.url.endswith(f"/dashboard/callouts/{rehearsal.pk}")
    assert page.locator("h1 .badge.rehearsal").is_visible()

    page.get_by_role("link", name="Start", exact=True).click()
    assert page.get_by_text("3 people will be called.").is_visible()
    page.get_by_role("button", name="Yes, Start").click()
    page.get_by_text("Done: Start.").wait_for()

    # progress reaches the end by itself (htmx) and the chart draws the calls
    page.wait_for_function(
        "document.querySelector('[data-stat=\"answered\"]').textContent.trim() === '3'"
        " && document.querySelector('[data-stat=\"still_to_call\"]').textContent.trim() === '0'",
        timeout=90_000,
    )
    page.locator("#chart canvas").wait_for()
    page.wait_for_function("Number(document.getElementById('chart').dataset.total) >= 3", timeout=30_000)
    assert PhoneCall.objects.filter(callout=rehearsal, status="completed").count() == 3
    assert not PhoneCall.objects.filter(callout=callout).exclude(status="created").exists()  # the real one: untouched

    # pause, then stop, each after its confirmation; the history says who
    page.get_by_role("link", name="Pause").click()
    page.get_by_role("button", name="Yes, Pause").click()
    page.get_by_text("Done: Pause.").wait_for()
    page.get_by_role("link", name="Stop").click()
    page.get_by_role("button", name="Yes, Stop").click()
    page.get_by_text("Done: Stop.").wait_for()
    rehearsal.refresh_from_db()
    assert rehearsal.status == "stopped"
    assert page.locator("table.events tbody tr").count() == 3

    # Khmer: the switch in the sidebar, then the same page in Khmer
    page.locator("form.language-switch button[value='km']").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "km"
    for text in (
        page.locator('nav.sidebar a[href="/dashboard/"]').last.inner_text(),
        page.locator("main").inner_text(),
    ):
        assert any("\u1780" <= char <= "\u17ff" for char in text), text[:200]  # Khmer script
    assert page.get_by_text("Still to call").count() == 0

    # another account's callout is a 404
    other = CalloutFactory()
    response = page.goto(f"/dashboard/callouts/{other.pk}")
    assert response.status == 404


def test_a_wrong_password_is_refused_then_rate_limited(page):
    user = UserFactory()
    page.goto("/dashboard/login")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(f"wrong{attempt}")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        if attempt == 0:
            assert page.get_by_text("Please enter a correct").first.is_visible()
    # locked out: even the right password is refused now
    page.goto("/dashboard/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("secret123")
    with page.expect_response(lambda r: r.url.endswith("/dashboard/login") and r.request.method == "POST") as info:
        page.get_by_role("button", name="Sign in").click()
    response_text = info.value.text()
    assert info.value.status in (403, 429)
    assert "/dashboard/login" in page.url
    assert response_text


def _wait_until(predicate, message: str, timeout: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(message)
