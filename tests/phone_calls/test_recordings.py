import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.test import Client

from accounts.models import Permission
from phone_calls.models import Recording
from phone_calls.recordings import recording_audio_fetch
from tests.api_cases import ResourceAPICases
from tests.phone_calls.webhook_helpers import TWILIO_SID, TWILIO_TOKEN, outbound_call, provider_account, signed_post

CALLBACK = "/twilio_webhooks/recording_status_callbacks"
AUDIO = b"ID3fake-mp3-bytes"


class RecordingServer:
    """Serves `<path>.mp3` on loopback behind HTTP Basic auth, like the provider's Recordings resource."""

    def __init__(self, credentials: tuple[str, str]):
        expected = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                outer.requests.append(self.path)
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                self.send_response(404 if "missing" in self.path else 200)
                self.send_header("Content-Type", "audio/mpeg")
                self.end_headers()
                self.wfile.write(AUDIO)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def recording_server():
    server = RecordingServer((TWILIO_SID, TWILIO_TOKEN))
    yield server
    server.stop()


@pytest.fixture
def call(db):
    return outbound_call(provider_account(), call_sid="CA-rec")


def params(recording_url: str, **extra) -> dict:
    return {
        "CallSid": "CA-rec",
        "AccountSid": TWILIO_SID,
        "RecordingSid": "RE1",
        "RecordingUrl": recording_url,
        "RecordingStatus": "completed",
        "RecordingDuration": "7",
        **extra,
    }


def test_callback_stores_the_recording_and_fetches_its_audio(
    call, recording_server, django_capture_on_commit_callbacks
):
    url = f"{recording_server.url}/2010-04-01/Accounts/{TWILIO_SID}/Recordings/RE1"
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(Client(), CALLBACK, params(url))
    assert response.status_code == 204
    recording = Recording.objects.get()
    assert (recording.phone_call_id, recording.contact_id, recording.account_id) == (
        call.pk,
        call.contact_id,
        call.account_id,
    )
    assert (recording.external_recording_id, recording.external_recording_url, recording.duration) == ("RE1", url, 7)
    assert recording_server.requests == [f"/2010-04-01/Accounts/{TWILIO_SID}/Recordings/RE1.mp3"]
    assert recording.audio_file.read() == AUDIO


def test_repeated_callback_keeps_one_recording(call, recording_server, django_capture_on_commit_callbacks):
    url = f"{recording_server.url}/Recordings/RE1"
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert signed_post(Client(), CALLBACK, params(url)).status_code == 204
    assert Recording.objects.count() == 1
    assert len(recording_server.requests) == 1


def test_fetch_failure_raises_for_the_task_to_retry(call, recording_server):
    recording = Recording.objects.create(
        account=call.account,
        phone_call=call,
        contact=call.contact,
        external_recording_id="RE9",
        external_recording_url=f"{recording_server.url}/missing",
    )
    with pytest.raises(requests.HTTPError):
        recording_audio_fetch(recording_id=recording.pk)
    recording.refresh_from_db()
    assert not recording.audio_file


@pytest.mark.parametrize("missing", ["CallSid", "RecordingSid", "RecordingUrl"])
def test_callback_without_a_required_parameter_is_a_bad_request(call, missing):
    body = params("https://api.twilio.com/Recordings/RE1")
    del body[missing]
    assert signed_post(Client(), CALLBACK, body).status_code == 400
    assert not Recording.objects.exists()


def test_callback_for_an_unknown_call_is_a_bad_request(call):
    body = params("https://api.twilio.com/Recordings/RE1", CallSid="CA-unknown")
    assert signed_post(Client(), CALLBACK, body).status_code == 400


def test_unsigned_callback_is_forbidden(call):
    body = params("https://api.twilio.com/Recordings/RE1")
    assert signed_post(Client(), CALLBACK, body, signature="bad").status_code == 403
    assert signed_post(Client(), CALLBACK, {**body, "AccountSid": "ACnope"}).status_code == 403
    assert not Recording.objects.exists()


def make_recording(account, **fields) -> Recording:
    call = outbound_call(account)
    defaults = {"external_recording_id": f"RE{call.pk}", "external_recording_url": f"https://rec.example/RE{call.pk}"}
    return Recording.objects.create(account=account, phone_call=call, contact=call.contact, **{**defaults, **fields})


class TestRecordingAPI(ResourceAPICases):
    list_url = "/api/recordings"
    resource = "recordings"

    def make(self, account):
        return make_recording(account)

    def test_filters_on_metadata(self, client_for, account):
        """Recordings have no metadata: the filter is refused instead of failing in SQL."""
        assert client_for.get(self.list_url, {"q[metadata][foo]": "bar"}).status_code == 422


def test_show_has_the_recording_fields(client_for, account):
    recording = make_recording(account, duration=12)
    response = client_for.get(f"/api/recordings/{recording.pk}")
    assert response.status_code == 200
    assert sorted(response.json()) == sorted(
        [
            "id",
            "phone_call_id",
            "account_id",
            "contact_id",
            "external_recording_id",
            "external_recording_url",
            "duration",
            "created_at",
            "updated_at",
        ]
    )
    assert client_for.get(f"/api/recordings/{recording.pk}.json").json()["duration"] == 12


def test_mp3_redirects_to_the_provider_until_fetched(client_for, account):
    recording = make_recording(account)
    response = client_for.get(f"/api/recordings/{recording.pk}.mp3")
    assert response.status_code == 302
    assert response["Location"] == f"{recording.external_recording_url}.mp3"


def test_mp3_serves_the_stored_audio(client_for, account):
    from django.core.files.base import ContentFile

    recording = make_recording(account)
    recording.audio_file.save("RE.mp3", ContentFile(AUDIO))
    response = client_for.get(f"/api/recordings/{recording.pk}.mp3")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert b"".join(response.streaming_content) == AUDIO


def test_mp3_needs_the_read_permission_and_the_account(make_client, account, other_account):
    recording = make_recording(account)
    assert (
        make_client(account, permissions=[Permission.CONTACTS_READ])
        .get(f"/api/recordings/{recording.pk}.mp3")
        .status_code
        == 403
    )
    assert make_client(other_account).get(f"/api/recordings/{recording.pk}.mp3").status_code == 404


def test_recordings_cannot_be_written(client_for, account):
    """There is no recordings_write permission: writes are refused before routing."""
    assert client_for.post("/api/recordings", {}, format="json").status_code == 403
    recording = make_recording(account)
    assert client_for.delete(f"/api/recordings/{recording.pk}").status_code == 403
    assert Recording.objects.filter(pk=recording.pk).exists()


def test_filter_by_duration(client_for, account):
    long = make_recording(account, duration=60)
    make_recording(account, duration=5)
    assert [item["id"] for item in client_for.get("/api/recordings", {"q[duration_gt]": "30"}).json()] == [long.pk]
