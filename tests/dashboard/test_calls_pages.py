"""Participations, phone calls (a callout's and the account's), one call's events, recordings: anonymous, another
account's ids, bad input, query counts, newest first, totals from counters or capped."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from phone_calls.models import PhoneCall, Recording, RemotePhoneCallEvent
from tests.factories import CalloutFactory, CalloutParticipationFactory, PhoneCallFactory


@pytest.fixture
def callout(dashboard_client):
    return CalloutFactory(account=dashboard_client.account)


@pytest.fixture
def calls(callout):
    made = [PhoneCallFactory(callout_participation__callout=callout) for _ in range(3)]
    PhoneCallFactory(callout_participation=made[0].callout_participation, completed=True)
    return made


def urls(callout_id, call_id, recording_id):
    return [
        f"/dashboard/callouts/{callout_id}/participations",
        f"/dashboard/callouts/{callout_id}/phone_calls",
        f"/dashboard/phone_calls/{call_id}",
        f"/dashboard/recordings?callout_id={callout_id}",
        f"/dashboard/recordings/{recording_id}/audio",
    ]


@pytest.fixture
def recording(settings, tmp_path):
    def make(call):
        settings.MEDIA_ROOT = tmp_path
        recording = Recording.objects.create(
            account_id=call.account_id,
            phone_call=call,
            external_recording_id=f"RE{call.pk}",
            external_recording_url="https://example.org/r",
            duration=7,
        )
        recording.audio_file.save("r.mp3", ContentFile(b"ID3audio"), save=True)
        return recording

    return make


def test_anonymous_users_are_sent_to_sign_in(db, calls, recording):
    call = calls[0]
    for url in [*urls(call.callout_id, call.pk, recording(call).pk), "/dashboard/phone_calls", "/dashboard/recordings"]:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/dashboard/login"), url


def test_another_accounts_ids_are_404(dashboard_client, other_account_callout, recording):
    call = PhoneCallFactory(callout_participation__callout=other_account_callout)
    for url in urls(other_account_callout.pk, call.pk, recording(call).pk):
        assert dashboard_client.get(url).status_code == 404, url
    listing = dashboard_client.get("/dashboard/phone_calls").content.decode()
    assert call.msisdn not in listing
    assert call.msisdn not in dashboard_client.get("/dashboard/recordings").content.decode()


def test_participations_newest_first_with_the_total_from_counters(
    dashboard_client, callout, calls, django_assert_num_queries
):
    with django_assert_num_queries(5):  # session, user with its account, callout, rows, counters
        response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/participations")
    body = response.content.decode()
    assert response.status_code == 200 and "3 participations" in body
    msisdns = [call.msisdn for call in reversed(calls)]
    assert [body.index(m) for m in msisdns] == sorted(body.index(m) for m in msisdns)


def test_callout_phone_calls_filter_by_status_newest_first(dashboard_client, callout, calls, django_assert_num_queries):
    with django_assert_num_queries(5):  # session, user with its account, callout, rows, counters
        response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/phone_calls", {"status": "completed"})
    body = response.content.decode()
    assert "1 phone call" in body and body.count('href="/dashboard/phone_calls/') == 1
    everything = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/phone_calls").content.decode()
    assert "4 phone calls" in everything
    ids = [call.pk for call in PhoneCall.objects.filter(callout=callout).order_by("-id")]
    positions = [everything.index(f'href="/dashboard/phone_calls/{pk}"') for pk in ids]
    assert positions == sorted(positions)


def test_an_unknown_status_is_shown_next_to_the_filter(dashboard_client, callout):
    response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/phone_calls", {"status": "nonsense"})
    assert response.status_code == 422
    assert 'id="id_status_errors"' in response.content.decode()
    assert dashboard_client.get("/dashboard/phone_calls", {"status": "x"}).status_code == 422


def test_pages_go_back_by_id(dashboard_client, callout, monkeypatch):
    import dashboard.views.calls as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    made = [PhoneCallFactory(callout_participation__callout=callout) for _ in range(3)]
    first = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/phone_calls").content.decode()
    assert f"before={made[1].pk}" in first
    second = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/phone_calls", {"before": made[1].pk})
    assert f'href="/dashboard/phone_calls/{made[0].pk}"' in second.content.decode()
    assert dashboard_client.get(f"/dashboard/callouts/{callout.pk}/phone_calls", {"before": "x"}).status_code == 200


def test_account_phone_calls_total_is_capped(dashboard_client, calls, monkeypatch, django_assert_num_queries):
    import dashboard.views.calls as views

    with django_assert_num_queries(4):  # session, user with its account, rows (with their callouts), capped count
        response = dashboard_client.get("/dashboard/phone_calls")
    assert "4 phone calls" in response.content.decode()
    monkeypatch.setattr(views, "COUNT_CAP", 2)
    assert "more than 2 phone calls" in dashboard_client.get("/dashboard/phone_calls").content.decode()


def test_a_call_shows_its_events(dashboard_client, calls, django_assert_num_queries):
    call = calls[0]
    RemotePhoneCallEvent.objects.create(
        phone_call=call, details={"CallStatus": "ringing"}, remote_call_id="CA1", remote_direction="outbound-api"
    )
    with django_assert_num_queries(4):  # session, user with its account, call with its callout, events
        response = dashboard_client.get(f"/dashboard/phone_calls/{call.pk}")
    assert response.status_code == 200 and "ringing" in response.content.decode()


def test_recordings_have_a_player_serving_the_accounts_audio(
    dashboard_client, calls, recording, django_assert_num_queries
):
    made = recording(calls[0])
    with django_assert_num_queries(3):  # session, user with its account, recordings with their calls
        page = dashboard_client.get("/dashboard/recordings")
    assert f'<audio controls preload="none" src="/dashboard/recordings/{made.pk}/audio"' in page.content.decode()
    audio = dashboard_client.get(f"/dashboard/recordings/{made.pk}/audio")
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/mpeg"
    assert b"".join(audio.streaming_content) == b"ID3audio"


def test_a_bad_callout_filter_of_recordings_is_a_404(dashboard_client):
    assert dashboard_client.get("/dashboard/recordings", {"callout_id": "abc"}).status_code == 404


def test_list_pages_refuse_posts(dashboard_client, callout):
    for url in (f"/dashboard/callouts/{callout.pk}/phone_calls", "/dashboard/phone_calls", "/dashboard/recordings"):
        assert dashboard_client.post(url).status_code == 405


def test_participation_without_calls_is_listed(dashboard_client, callout):
    participation = CalloutParticipationFactory(callout=callout)
    body = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/participations").content.decode()
    assert participation.msisdn in body and "1 participation" in body


@pytest.mark.parametrize("status, expected", [("answered", 1), ("still_to_call", 2), ("given_up", 0), ("", 3)])
def test_participations_filter_by_outcome_with_totals_from_counters(
    dashboard_client, callout, calls, status, expected, django_assert_num_queries
):
    from callouts.models import CalloutParticipation

    CalloutParticipation.objects.filter(pk=calls[0].callout_participation_id).update(answered=True)
    from callouts.counters import callout_counts_recount

    callout_counts_recount(callout_ids=[callout.pk], lock=False)
    with django_assert_num_queries(5):  # session, user with its account, callout, rows, counters
        response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/participations", {"status": status})
    body = response.content.decode()
    assert f'<p class="total">{expected} participation' in body
    assert body.count("<tr><td>") == expected


def test_an_unknown_outcome_is_shown_next_to_the_filter(dashboard_client, callout):
    response = dashboard_client.get(f"/dashboard/callouts/{callout.pk}/participations", {"status": "x"})
    assert response.status_code == 422 and 'id="id_status_errors"' in response.content.decode()
