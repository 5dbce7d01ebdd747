"""Uploaded callout audio (issue 14): checked by content and size, stored with an unguessable name, served at an
unguessable URL under SCFM_PUBLIC_URL."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from callouts.audio import callout_audio_attach
from scfm.errors import DomainError
from tests.factories import CalloutFactory

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 200
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 200
OGG = b"OggS\x00\x02" + b"\x00" * 200


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SCFM_PUBLIC_URL = "https://scfm.example.org"
    return tmp_path


@pytest.mark.parametrize(
    "content, name, extension, content_type",
    [
        (MP3, "warning.mp3", "mp3", "audio/mpeg"),
        (WAV, "warning.wav", "wav", "audio/wav"),
        (OGG, "warning.ogg", "ogg", "audio/ogg"),
        (MP3, "warning.txt", "mp3", "audio/mpeg"),  # the content decides, not the name
    ],
)
def test_audio_is_stored_and_served_at_an_unguessable_url(db, client, content, name, extension, content_type):
    callout = callout_audio_attach(callout=CalloutFactory(), upload=SimpleUploadedFile(name, content, "text/plain"))

    assert callout.audio_url.startswith("https://scfm.example.org/audio/")
    token = callout.audio_url.rsplit("/", 1)[1]
    assert token.endswith("." + extension) and len(token.split(".")[0]) == 32
    response = client.get(f"/audio/{token}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert b"".join(response.streaming_content) == content


@pytest.mark.parametrize("content", [b"", b"just text, not audio " * 20, b"%PDF-1.4\n" + b"\x00" * 200])
def test_a_file_that_is_not_audio_is_refused(db, content, media):
    callout = CalloutFactory()
    with pytest.raises(DomainError) as error:
        callout_audio_attach(callout=callout, upload=SimpleUploadedFile("warning.mp3", content, "audio/mpeg"))
    assert "MP3, WAV or Ogg" in error.value.errors["audio_file"][0]
    callout.refresh_from_db()
    assert callout.audio_url is None and not callout.audio_file
    assert not list(media.rglob("*.*"))


def test_a_file_over_the_size_limit_is_refused(db, settings):
    settings.SCFM_AUDIO_MAX_SIZE = 100
    with pytest.raises(DomainError) as error:
        callout_audio_attach(callout=CalloutFactory(), upload=SimpleUploadedFile("w.mp3", MP3, "audio/mpeg"))
    assert "too large" in error.value.errors["audio_file"][0]


def test_a_replaced_file_is_deleted(db, media, django_capture_on_commit_callbacks):
    callout = callout_audio_attach(callout=CalloutFactory(), upload=SimpleUploadedFile("a.mp3", MP3))
    first = media / callout.audio_file.name
    with django_capture_on_commit_callbacks(execute=True):
        callout_audio_attach(callout=callout, upload=SimpleUploadedFile("b.wav", WAV))
    assert not first.exists()


@pytest.mark.parametrize("name", ["x.mp3", "../../etc/passwd", "A" * 32 + ".exe", "A" * 32 + ".mp3"])
def test_any_other_name_is_a_404(client, db, name):
    assert client.get(f"/audio/{name}").status_code == 404


def test_only_get_and_head(client, db):
    callout = callout_audio_attach(callout=CalloutFactory(), upload=SimpleUploadedFile("a.mp3", MP3))
    assert client.post("/audio/" + callout.audio_url.rsplit("/", 1)[1]).status_code == 405
