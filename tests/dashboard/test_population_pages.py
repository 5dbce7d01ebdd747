"""Populate (filter builder, live preview, progress, undo), rehearse and call-me-first pages: anonymous, another
account's ids, bad input next to the field, CSRF, query counts."""

import pytest
from django.test import Client

from batch_operations.models import BatchOperation
from callouts.models import Callout, CalloutParticipation
from phone_calls.models import PhoneCall
from tests.factories import BatchOperationFactory, CalloutFactory, ContactFactory

ROWS = {"rows-TOTAL_FORMS": "3", "rows-INITIAL_FORMS": "0", "rows-MIN_NUM_FORMS": "0", "rows-MAX_NUM_FORMS": "10"}


def rows(*conditions):
    data = dict(ROWS)
    for index, (key, operator, value_type, value) in enumerate(conditions):
        data.update(
            {
                f"rows-{index}-key": key,
                f"rows-{index}-operator": operator,
                f"rows-{index}-value_type": value_type,
                f"rows-{index}-value": value,
            }
        )
    for index in range(len(conditions), 3):
        data.update({f"rows-{index}-operator": "eq", f"rows-{index}-value_type": "text"})
    return data


@pytest.fixture
def callout(dashboard_client):
    return CalloutFactory(account=dashboard_client.account)


@pytest.fixture
def contacts(dashboard_client):
    account = dashboard_client.account
    return [
        ContactFactory(account=account, metadata={"province": "Kampot", "age": 30, "born": "1990-05-01"}),
        ContactFactory(account=account, metadata={"province": "Kampot", "age": 70, "born": "1950-05-01"}),
        ContactFactory(account=account, metadata={"province": "Takeo", "age": 40}),
    ]


def pages(callout_id, population_id=1):
    base = f"/dashboard/callouts/{callout_id}"
    return [
        f"{base}/populate",
        f"{base}/populate/preview",
        f"{base}/populations/{population_id}",
        f"{base}/populations/{population_id}/undo",
        f"{base}/rehearse",
        f"{base}/call_me",
    ]


def test_anonymous_users_are_sent_to_sign_in(db, callout):
    for url in pages(callout.pk):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/dashboard/login"), url


def test_another_accounts_callout_is_a_404(dashboard_client, other_account_callout):
    population = BatchOperationFactory(callout=other_account_callout)
    for url in pages(other_account_callout.pk, population.pk):
        assert dashboard_client.get(url).status_code == 404, url
        if url.endswith(("/populate", "/undo", "/rehearse", "/call_me")):  # the others are GET only (405)
            assert dashboard_client.post(url, rows()).status_code == 404, url
    assert not Callout.objects.filter(is_rehearsal=True).exists()


def test_another_callouts_population_is_a_404(dashboard_client, callout):
    population = BatchOperationFactory(callout=CalloutFactory(account=dashboard_client.account))
    assert dashboard_client.get(f"/dashboard/callouts/{callout.pk}/populations/{population.pk}").status_code == 404


def test_the_builder_shows_rows_and_populations(dashboard_client, callout, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):  # session, user, account, callout, populations
        response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/populate")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="rows-0-key"' in body and 'name="rows-2-value"' in body
    assert "/populate/preview" in body and "No populations yet." in body


@pytest.mark.parametrize(
    "conditions, expected",
    [
        ([("province", "eq", "text", "Kampot")], 2),
        ([("age", "gt", "numeric", "35")], 2),
        ([("born", "lt", "date", "1980-01-01")], 1),
        ([("province", "in", "text", "Kampot,Takeo")], 3),
        ([("born", "exists", "text", "no")], 1),
        ([("province", "eq", "text", "Kampot"), ("age", "lteq", "numeric", "30")], 1),
        ([], 3),
    ],
)
def test_the_preview_counts_and_lists_the_first_matches(dashboard_client, callout, contacts, conditions, expected):
    response = dashboard_client.get(
        f"/dashboard/callouts/{callout.pk}/populate/preview", rows(*conditions), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-count="{expected}"' in body
    assert body.count("<tr><td>+") == expected
    assert "<html" not in body  # the fragment only


def test_the_preview_query_count_is_fixed(dashboard_client, callout, contacts, django_assert_num_queries):
    # session, user with its account (accounts.backends), callout, first contacts (fewer than the limit: no count)
    with django_assert_num_queries(4):
        dashboard_client.get(f"/dashboard/callouts/{callout.pk}/populate/preview", rows(), HTTP_HX_REQUEST="true")


def test_the_preview_gives_up_counting_after_the_timeout(dashboard_client, callout, monkeypatch, require_postgresql):
    import batch_operations.selectors as selectors

    for _ in range(12):
        ContactFactory(account=dashboard_client.account)
    monkeypatch.setattr(selectors, "FILTER_PREVIEW_TIMEOUT_MS", 1)
    monkeypatch.setattr(selectors, "count_within", lambda queryset, timeout_ms: None)
    response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/populate/preview", rows())
    assert response.status_code == 200
    assert "Counting took longer than 2 seconds" in response.content.decode()


def test_a_bad_row_is_shown_next_to_its_field(dashboard_client, callout):
    response = dashboard_client.post(
        f"/dashboard/callouts/{callout.pk}/populate", rows(("age", "gt", "numeric", "old"), ("", "eq", "text", "x"))
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_rows-0-value_errors"' in body and "Enter a number." in body
    assert 'id="id_rows-1-key_errors"' in body
    assert not BatchOperation.objects.exists()


def test_a_broken_management_form_is_a_422_not_a_500(dashboard_client, callout):
    response = dashboard_client.post(f"/dashboard/callouts/{callout.pk}/populate", {"rows-TOTAL_FORMS": "x"})
    assert response.status_code == 422
    broken = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/populate/preview", {"rows-TOTAL_FORMS": "x"})
    assert broken.status_code == 422
    # no rows at all: the empty builder's preview (every contact)
    assert dashboard_client.get(f"/dashboard/callouts/{callout.pk}/populate/preview").status_code == 200


def test_posting_the_rows_queues_a_population_and_shows_its_progress(
    dashboard_client, callout, contacts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = dashboard_client.post(
            f"/dashboard/callouts/{callout.pk}/populate", rows(("province", "eq", "text", "Kampot"))
        )
    operation = BatchOperation.objects.get(callout=callout)
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/callouts/{callout.pk}/populations/{operation.pk}"
    assert operation.parameters == {"contact_filter_params": {"metadata": {"province": "Kampot"}}}
    assert CalloutParticipation.objects.filter(callout=callout).count() == 2

    page = dashboard_client.get(response["Location"])
    assert page.status_code == 200
    assert 'aria-valuenow="100"' in page.content.decode()
    fragment = dashboard_client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert fragment.content.decode().startswith('<div id="population-progress"')


def test_the_progress_page_query_count(dashboard_client, callout, django_assert_num_queries):
    population = BatchOperationFactory(callout=callout)
    with django_assert_num_queries(4):  # session, user with its account, callout, population
        dashboard_client.get(f"/dashboard/callouts/{callout.pk}/populations/{population.pk}")


def test_undo_previews_then_removes_the_participations(
    dashboard_client, callout, contacts, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        dashboard_client.post(f"/dashboard/callouts/{callout.pk}/populate", rows())
    operation = BatchOperation.objects.get(callout=callout)
    url = f"/dashboard/callouts/{callout.pk}/populations/{operation.pk}/undo"
    with django_assert_max_num_queries(10):  # + count, "dialled" check, the flash message session write (3)
        preview = dashboard_client.get(url)
    assert "3 participations will be removed" in preview.content.decode()

    response = dashboard_client.post(url)
    assert response.status_code == 302 and response["Location"] == f"/dashboard/callouts/{callout.pk}/populate"
    assert not CalloutParticipation.objects.filter(callout=callout).exists()
    assert "3 participations removed" in dashboard_client.get(response["Location"]).content.decode()


def test_undo_is_refused_with_the_reason_once_started(
    dashboard_client, callout, contacts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dashboard_client.post(f"/dashboard/callouts/{callout.pk}/populate", rows())
    operation = BatchOperation.objects.get(callout=callout)
    Callout.objects.filter(pk=callout.pk).update(status="running")
    url = f"/dashboard/callouts/{callout.pk}/populations/{operation.pk}/undo"
    assert "cannot be undone" in dashboard_client.get(url).content.decode()
    response = dashboard_client.post(url, follow=True)
    assert "only before the callout starts" in response.content.decode()
    assert CalloutParticipation.objects.filter(callout=callout).count() == 3


def test_forms_refuse_a_post_without_the_csrf_token(csrf_client, db):
    callout = CalloutFactory(account=csrf_client.user.account)
    for url in (f"/dashboard/callouts/{callout.pk}/populate", f"/dashboard/callouts/{callout.pk}/rehearse"):
        assert csrf_client.post(url, rows()).status_code == 403
    population = BatchOperationFactory(callout=callout)
    assert csrf_client.post(f"/dashboard/callouts/{callout.pk}/populations/{population.pk}/undo").status_code == 403
    assert (
        csrf_client.post(f"/dashboard/callouts/{callout.pk}/call_me", {"phone_number": "+85512345678"}).status_code
        == 403
    )
    assert not BatchOperation.objects.exclude(pk=population.pk).exists()
    assert not PhoneCall.objects.exists()


def test_rehearse_makes_a_labelled_copy_and_opens_it(dashboard_client, callout, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # session, user, account, callout
        page = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/rehearse")
    assert "simulator" in page.content.decode()
    response = dashboard_client.post(f"/dashboard/callouts/{callout.pk}/rehearse")
    rehearsal = Callout.objects.get(is_rehearsal=True)
    assert response.status_code == 302 and response["Location"] == f"/dashboard/callouts/{rehearsal.pk}"
    assert rehearsal.rehearsal_of_id == callout.pk and rehearsal.created_by == dashboard_client.user
    labelled = dashboard_client.get(f"/dashboard/callouts/{rehearsal.pk}/participations").content.decode()
    assert 'class="badge rehearsal"' in labelled


def test_rehearsing_a_rehearsal_is_refused_on_the_page(dashboard_client, callout):
    dashboard_client.post(f"/dashboard/callouts/{callout.pk}/rehearse")
    rehearsal = Callout.objects.get(is_rehearsal=True)
    response = dashboard_client.post(f"/dashboard/callouts/{rehearsal.pk}/rehearse")
    assert response.status_code == 422 and "is a rehearsal already" in response.content.decode()


def test_call_me_needs_a_number_and_shows_the_error_next_to_it(dashboard_client, callout):
    response = dashboard_client.post(f"/dashboard/callouts/{callout.pk}/call_me", {"phone_number": "012 345 678"})
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_phone_number_errors"' in body and "national number" in body
    assert dashboard_client.post(f"/dashboard/callouts/{callout.pk}/call_me", {}).status_code == 422
    assert not PhoneCall.objects.exists()


def test_call_me_saves_the_number_and_dials_it(
    dashboard_client, callout, fake_twilio, django_capture_on_commit_callbacks
):
    account = dashboard_client.account
    account.platform_provider_name = "somleng"
    account.somleng_account_sid, account.somleng_auth_token = fake_twilio.account_sid, fake_twilio.auth_token
    account.somleng_api_base_url = fake_twilio.base_url
    account.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = dashboard_client.post(
            f"/dashboard/callouts/{callout.pk}/call_me", {"phone_number": "+855 12 345 678"}
        )
    call = PhoneCall.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/dashboard/phone_calls/{call.pk}"
    assert [request.value("To") for request in fake_twilio.create_requests()] == ["+85512345678"]
    dashboard_client.user.refresh_from_db()
    assert dashboard_client.user.phone_number == "+85512345678"
    page = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/call_me").content.decode()
    assert 'value="+85512345678"' in page


def test_the_builder_speaks_khmer(dashboard_client, callout):
    dashboard_client.user.locale = "km"
    dashboard_client.user.save()
    dashboard_client.cookies["django_language"] = "km"
    body = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/populate").content.decode()
    assert "បន្ថែមទំនាក់ទំនងទាំងនេះទៅការហៅចេញ" in body  # "Add these contacts to the callout"
    assert "Add these contacts to the callout" not in body


def test_a_rehearsal_is_labelled_on_the_callout_list_and_page(dashboard_client, callout):
    dashboard_client.post(f"/dashboard/callouts/{callout.pk}/rehearse")
    rehearsal = Callout.objects.get(is_rehearsal=True)
    for url in ("/dashboard/", f"/dashboard/callouts/{rehearsal.pk}"):
        body = dashboard_client.get(url).content.decode()
        assert body.count('class="badge rehearsal"') == 1, url


def test_audio_upload_page(dashboard_client, callout, settings, tmp_path, csrf_client, other_account_callout):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    url = f"/dashboard/callouts/{callout.pk}/audio"
    assert Client().get(url).status_code == 302
    assert dashboard_client.get(f"/dashboard/callouts/{other_account_callout.pk}/audio").status_code == 404
    assert dashboard_client.get(url).status_code == 200
    refused = dashboard_client.post(url, {"audio_file": SimpleUploadedFile("a.mp3", b"not audio at all" * 20)})
    assert refused.status_code == 422 and 'id="id_audio_file_errors"' in refused.content.decode()
    assert dashboard_client.post(url, {}).status_code == 422
    assert csrf_client.post(url, {"audio_file": SimpleUploadedFile("a.mp3", b"ID3" + b"\x00" * 300)}).status_code == 403
    response = dashboard_client.post(url, {"audio_file": SimpleUploadedFile("a.mp3", b"ID3" + b"\x00" * 300)})
    assert response.status_code == 302
    callout.refresh_from_db()
    token = callout.audio_url.rsplit("/audio/", 1)[1]
    assert Client().get(f"/audio/{token}").status_code == 200
