"""The population builder in Chromium: the live preview counts while staff type a filter, nothing is queued before
the button, the button queues the population and its progress bar reaches the end; undo removes it."""

import pytest

from batch_operations.models import BatchOperation
from callouts.models import CalloutParticipation
from tests.factories import CalloutFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_preview_counts_as_staff_type_and_the_population_can_be_undone(page, sign_in):
    user = UserFactory()
    for index in range(6):
        ContactFactory(
            account=user.account, metadata={"province": "Kampot" if index < 4 else "Takeo", "age": 20 + index}
        )
    callout = CalloutFactory(account=user.account)
    sign_in(user)

    page.goto(f"/dashboard/callouts/{callout.pk}/populate")
    count = page.locator("#preview .count")
    count.wait_for()
    assert count.get_attribute("data-count") == "6"  # no condition: every contact

    page.locator("#id_rows-0-key").fill("province")
    page.locator("#id_rows-0-value").fill("Kampot")
    page.locator('#preview .count[data-count="4"]').wait_for()
    page.locator("#id_rows-1-key").fill("age")
    page.locator("#id_rows-1-operator").select_option("gteq")
    page.locator("#id_rows-1-value_type").select_option("numeric")
    page.locator("#id_rows-1-value").fill("22")
    page.locator('#preview .count[data-count="2"]').wait_for()
    assert page.locator("#preview tbody tr").count() == 2
    assert not BatchOperation.objects.exists()  # nothing queued by the preview

    page.get_by_role("button", name="Add these contacts to the callout").click()
    page.wait_for_url(f"**/dashboard/callouts/{callout.pk}/populations/*")
    page.locator('#population-progress [aria-valuenow="100"]').wait_for()
    assert CalloutParticipation.objects.filter(callout=callout).count() == 2

    page.get_by_role("link", name="Undo this population").click()
    assert "2 participations will be removed" in page.locator(".undo-count").inner_text()
    page.get_by_role("button", name="Undo the population").click()
    page.wait_for_url(f"**/dashboard/callouts/{callout.pk}/populate")
    assert "2 participations removed" in page.locator(".messages").inner_text()
    assert not CalloutParticipation.objects.filter(callout=callout).exists()


def test_a_bad_value_is_explained_in_the_preview_and_next_to_the_field(page, sign_in):
    user = UserFactory()
    callout = CalloutFactory(account=user.account)
    sign_in(user)
    page.goto(f"/dashboard/callouts/{callout.pk}/populate")
    page.locator("#id_rows-0-key").fill("age")
    page.locator("#id_rows-0-operator").select_option("gt")
    page.locator("#id_rows-0-value_type").select_option("numeric")
    page.locator("#id_rows-0-value").fill("old")
    page.locator("#preview .errors").wait_for()
    page.get_by_role("button", name="Add these contacts to the callout").click()
    assert "Enter a number." in page.locator("#id_rows-0-value_errors").inner_text()
    assert not BatchOperation.objects.exists()
