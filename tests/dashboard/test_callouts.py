"""The callout pages: list, create, edit, delete, the callout, its events, live progress and series.

Each page: anonymous -> login redirect, another account's callout -> 404, bad input -> the form with the error next
to the field, CSRF enforced, and a fixed number of queries.
"""

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone

from callouts import counters
from callouts.models import Callout, CalloutEvent
from tests.factories import (
    BatchOperationFactory,
    CalloutFactory,
    CalloutParticipationFactory,
    PhoneCallFactory,
)

CALLOUT_PAGES = ["", "/edit", "/delete", "/progress", "/series", "/start"]

# the session and its user with its account (accounts.backends.EmailBackend), then the page's own queries
SESSION_QUERIES = 2


@pytest.fixture
def callout(dashboard_client):
    return CalloutFactory(
        account=dashboard_client.account, metadata={"name": "Flood warning"}, created_by=dashboard_client.user
    )


@pytest.mark.parametrize(
    "suffix", ["/dashboard/", "/dashboard/callouts/new"] + [f"/dashboard/callouts/1{s}" for s in CALLOUT_PAGES]
)
def test_pages_redirect_to_login_when_anonymous(db, suffix):
    response = Client().get(suffix)
    assert response.status_code == 302
    assert response["Location"].startswith("/dashboard/login?next=")


@pytest.mark.parametrize("suffix", CALLOUT_PAGES)
def test_pages_answer_404_for_another_accounts_callout(dashboard_client, other_account_callout, suffix):
    assert dashboard_client.get(f"/dashboard/callouts/{other_account_callout.pk}{suffix}").status_code == 404


@pytest.mark.parametrize("suffix", ["/edit", "/delete", "/start", "/stop"])
def test_posts_answer_404_for_another_accounts_callout(dashboard_client, other_account_callout, suffix):
    response = dashboard_client.post(f"/dashboard/callouts/{other_account_callout.pk}{suffix}", {"name": "x"})
    assert response.status_code == 404
    other_account_callout.refresh_from_db()
    assert other_account_callout.status == "initialized"


def test_list_shows_the_accounts_callouts_with_progress_from_counters(
    dashboard_client, callout, other_account_callout, django_assert_num_queries
):
    CalloutParticipationFactory.create_batch(3, callout=callout)
    counters.counts_add(callout.pk, {counters.ANSWERED: 1, counters.GIVEN_UP: 1})
    CalloutFactory.create_batch(3, account=dashboard_client.account)
    with django_assert_num_queries(SESSION_QUERIES + 3):  # count, page, progress of the page's callouts
        response = dashboard_client.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Flood warning" in html
    assert f'/dashboard/callouts/{other_account_callout.pk}"' not in html
    row = next(row for row in response.context["rows"] if row["callout"].pk == callout.pk)
    assert row["numbers"] == {"participations": 3, "answered": 1, "given_up": 1, "still_to_call": 1}
    assert row["percent"] == 67


def test_new_creates_a_callout_through_the_service(dashboard_client):
    response = dashboard_client.post(
        "/dashboard/callouts/new",
        {
            "name": "Storm",
            "call_flow_logic": "CallFlowLogic::PlayMessage",
            "audio_url": "https://x.org/a.mp3",
            "settings": '{"k": 1}',
        },
    )
    callout = Callout.objects.get(account=dashboard_client.account)
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/callouts/{callout.pk}"
    assert callout.metadata == {"name": "Storm"}
    assert (callout.call_flow_logic, callout.audio_url, callout.settings) == (
        "CallFlowLogic::PlayMessage",
        "https://x.org/a.mp3",
        {"k": 1},
    )
    assert callout.created_by == dashboard_client.user
    assert "Callout created." in dashboard_client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "call_flow_logic": "CallFlowLogic::HelloWorld"}, "name", "This field is required."),
        ({"name": "a", "call_flow_logic": "CallFlowLogic::Nope"}, "call_flow_logic", "Select a valid choice"),
        (
            {"name": "a", "call_flow_logic": "CallFlowLogic::HelloWorld", "settings": "[1]"},
            "settings",
            "must be a JSON object",
        ),
        (
            {"name": "a", "call_flow_logic": "CallFlowLogic::HelloWorld", "settings": "{"},
            "settings",
            "is not valid JSON",
        ),
        (
            {"name": "a", "call_flow_logic": "CallFlowLogic::HelloWorld", "audio_url": "x" * 2049},
            "audio_url",
            "at most 2048",
        ),
    ],
)
def test_new_shows_the_error_next_to_the_field_when_input_is_bad(dashboard_client, data, field, message):
    response = dashboard_client.post("/dashboard/callouts/new", data)
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert message.split("'")[0] in response.content.decode()
    assert not Callout.objects.filter(account=dashboard_client.account).exists()


def test_new_enforces_csrf(csrf_client):
    response = csrf_client.post(
        "/dashboard/callouts/new", {"name": "a", "call_flow_logic": "CallFlowLogic::HelloWorld"}
    )
    assert response.status_code == 403
    assert not Callout.objects.exists()


def test_new_form_offers_the_registered_call_flows(dashboard_client, django_assert_num_queries):
    with django_assert_num_queries(SESSION_QUERIES):
        response = dashboard_client.get("/dashboard/callouts/new")
    assert response.status_code == 200
    assert 'value="CallFlowLogic::PlayMessage"' in response.content.decode()
    assert '<label for="id_name">Name</label>' in response.content.decode()


def test_edit_updates_name_flow_audio_and_settings(dashboard_client, callout, django_assert_num_queries):
    with django_assert_num_queries(SESSION_QUERIES + 1):
        assert dashboard_client.get(f"/dashboard/callouts/{callout.pk}/edit").status_code == 200
    response = dashboard_client.post(
        f"/dashboard/callouts/{callout.pk}/edit",
        {"name": "Renamed", "call_flow_logic": "CallFlowLogic::HelloWorld", "audio_url": "", "settings": ""},
    )
    assert response.status_code == 302
    callout.refresh_from_db()
    assert callout.metadata["name"] == "Renamed"
    assert callout.audio_url is None


def test_delete_removes_a_callout_without_participations(dashboard_client, callout, django_assert_num_queries):
    with django_assert_num_queries(SESSION_QUERIES + 1):
        assert dashboard_client.get(f"/dashboard/callouts/{callout.pk}/delete").status_code == 200
    response = dashboard_client.post(f"/dashboard/callouts/{callout.pk}/delete")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert not Callout.objects.filter(pk=callout.pk).exists()


def test_delete_is_refused_with_a_message_when_the_callout_has_participations(dashboard_client, callout):
    CalloutParticipationFactory(callout=callout)
    BatchOperationFactory(callout=callout, account=callout.account)
    response = dashboard_client.post(f"/dashboard/callouts/{callout.pk}/delete", follow=True)
    assert Callout.objects.filter(pk=callout.pk).exists()
    assert "The callout was not deleted" in response.content.decode()


def test_detail_shows_progress_actions_and_links(dashboard_client, callout, django_assert_num_queries):
    CalloutParticipationFactory.create_batch(2, callout=callout)
    with django_assert_num_queries(SESSION_QUERIES + 5):
        response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/dashboard/callouts/{callout.pk}/start"' in html
    assert f'href="/dashboard/callouts/{callout.pk}/stop"' not in html
    for path in ("populate", "participations", "phone_calls", "rehearse", "call_me"):
        assert f'href="/dashboard/callouts/{callout.pk}/{path}"' in html
    assert 'data-stat="still_to_call">2<' in html
    assert 'data-stat="time_left">—<' in html


def test_start_confirmation_says_how_many_people_will_be_called(dashboard_client, callout, django_assert_num_queries):
    CalloutParticipationFactory.create_batch(3, callout=callout)
    with django_assert_num_queries(SESSION_QUERIES + 4):  # callout, statistics, calls in flight, settle rate
        response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/start")
    assert response.status_code == 200
    assert "3 people will be called." in response.content.decode()
    callout.refresh_from_db()
    assert callout.status == "initialized"  # a GET changes nothing


def test_start_records_who_started_it_and_when(dashboard_client, callout, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = dashboard_client.post(f"/dashboard/callouts/{callout.pk}/start")
    assert response.status_code == 302
    callout.refresh_from_db()
    assert callout.status == "running"
    event = CalloutEvent.objects.get(callout=callout)
    assert (event.event, event.from_status, event.to_status) == ("start", "initialized", "running")
    assert event.user == dashboard_client.user
    assert event.account == dashboard_client.account
    assert abs((timezone.now() - event.created_at).total_seconds()) < 60
    html = dashboard_client.get(f"/dashboard/callouts/{callout.pk}").content.decode()
    assert dashboard_client.user.email in html
    assert "Started" in html


def test_pause_resume_and_stop_follow_the_state_machine(dashboard_client, callout):
    url = f"/dashboard/callouts/{callout.pk}"
    for event, status in [("start", "running"), ("pause", "paused"), ("resume", "running"), ("stop", "stopped")]:
        dashboard_client.post(f"{url}/{event}")
        callout.refresh_from_db()
        assert callout.status == status
    assert CalloutEvent.objects.filter(callout=callout).count() == 4


def test_an_event_the_status_does_not_allow_is_refused_with_a_message(dashboard_client, callout):
    response = dashboard_client.post(f"/dashboard/callouts/{callout.pk}/pause", follow=True)
    callout.refresh_from_db()
    assert callout.status == "initialized"
    assert "You cannot pause a callout that is" in response.content.decode()
    assert not CalloutEvent.objects.exists()


def test_event_enforces_csrf(csrf_client):
    callout = CalloutFactory(account=csrf_client.user.account)
    assert csrf_client.post(f"/dashboard/callouts/{callout.pk}/start").status_code == 403
    callout.refresh_from_db()
    assert callout.status == "initialized"


def test_api_event_records_the_access_token_and_its_account(client_for, account):
    callout = CalloutFactory(account=account)
    response = client_for.post(f"/api/callouts/{callout.pk}/callout_events", {"event": "start"}, format="json")
    assert response.status_code == 201
    event = CalloutEvent.objects.get(callout=callout)
    assert event.access_token == client_for.token
    assert event.account == account
    assert event.user is None


def test_progress_partial_reads_counters_in_a_fixed_number_of_queries(
    dashboard_client, callout, django_assert_num_queries
):
    participations = CalloutParticipationFactory.create_batch(4, callout=callout)
    PhoneCallFactory(callout_participation=participations[0], callout=callout, status="in_progress")
    counters.counts_add(callout.pk, {counters.ANSWERED: 1})
    with django_assert_num_queries(SESSION_QUERIES + 4):
        response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/progress", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'hx-trigger="every 3s"' in html
    assert 'data-stat="answered">1<' in html
    assert 'data-stat="still_to_call">3<' in html
    assert 'data-stat="in_flight">1<' in html
    assert "of 200" in html  # the account's phone_call_queue_limit


def test_time_left_divides_still_to_call_by_the_settle_rate(dashboard_client, callout):
    CalloutParticipationFactory.create_batch(12, callout=callout)
    counters.counts_add(callout.pk, {counters.ANSWERED: 10})  # 10 settled this minute: 2 per minute over 5 minutes
    response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/progress")
    assert response.context["live"]["rate"] == 2
    assert 'data-stat="time_left">1 min<' in response.content.decode()


def test_series_answers_the_per_minute_json(dashboard_client, callout, django_assert_num_queries):
    with django_assert_num_queries(SESSION_QUERIES + 3):
        response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/series")
    assert response.status_code == 200
    body = response.json()
    assert body["interval"] == "minute"
    assert len(body["data"]) == 60


def test_series_answers_422_for_a_bad_time(dashboard_client, callout):
    response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/series?from=yesterday")
    assert response.status_code == 422
    assert response.json() == {"errors": {"from": ["is not an ISO 8601 time"]}}


def test_times_are_shown_in_the_accounts_time_zone(dashboard_client, callout):
    account = dashboard_client.account
    account.settings = {**account.settings, "time_zone": "Asia/Phnom_Penh"}
    account.save()
    Callout.objects.filter(pk=callout.pk).update(created_at=datetime(2026, 1, 1, 20, 0, tzinfo=UTC))
    html = dashboard_client.get(f"/dashboard/callouts/{callout.pk}").content.decode()
    assert "Jan. 2, 2026, 3 a.m." in html  # 20:00 UTC is 03:00 the next day in Phnom Penh (UTC+7)
    assert 'data-time-zone="Asia/Phnom_Penh"' in html  # the chart's axis too


MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 200


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_new_with_an_uploaded_audio_file_serves_it_at_an_unguessable_url(dashboard_client, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("warning.mp3", MP3, content_type="audio/mpeg")
    data = {"name": "Audio", "call_flow_logic": "CallFlowLogic::PlayMessage", "audio_file": upload}
    response = dashboard_client.post("/dashboard/callouts/new", data)
    assert response.status_code == 302
    callout = Callout.objects.get(account=dashboard_client.account)
    assert callout.audio_file.name.endswith(".mp3")
    assert "/audio/" in callout.audio_url
    served = Client().get("/audio/" + callout.audio_file.name.rsplit("/", 1)[1])
    assert served.status_code == 200


def test_new_refuses_a_file_that_is_not_audio_next_to_the_field(dashboard_client, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("warning.mp3", b"not audio at all", content_type="audio/mpeg")
    data = {"name": "Audio", "call_flow_logic": "CallFlowLogic::PlayMessage", "audio_file": upload}
    response = dashboard_client.post("/dashboard/callouts/new", data)
    assert response.status_code == 422
    assert "is not an audio file we can play" in response.context["form"].errors["audio_file"][0]
    assert not Callout.objects.filter(account=dashboard_client.account).exists()


def test_an_event_without_user_or_token_shows_as_the_system(dashboard_client, callout):
    from callouts.services import callout_fire_event

    callout_fire_event(callout=callout, event="start")  # as callouts_run (a command) does
    html = dashboard_client.get(f"/dashboard/callouts/{callout.pk}").content.decode()
    assert "System (a command or task)" in html
