"""Uploaded callout audio: checked by content and size, stored under MEDIA_ROOT with an unguessable name, and served
to the provider at an unguessable URL (issue 14).

`callout_audio_attach` reads the file's first bytes with the `filetype` library (magic numbers, not the name or
the browser's Content-Type) and accepts MP3, WAV and Ogg, the formats Twilio's and Somleng's <Play> read; the size
limit is settings.SCFM_AUDIO_MAX_SIZE (bytes, README). The stored name is `callout_audio/<32 random url-safe
characters>.<ext>` (callouts.models.callout_audio_path) and the callout's `audio_url` becomes
`$SCFM_PUBLIC_URL/audio/<that name>` (scfm/public_urls.public_url), answered by callouts/views.py `callout_audio`
without authentication: the name is the secret, as Twilio fetches it unauthenticated.
"""

import re
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from scfm.errors import DomainError
from scfm.public_urls import public_url

from .models import Callout

# detected MIME type -> (stored extension, Content-Type served)
AUDIO_TYPES = {
    "audio/mpeg": ("mp3", "audio/mpeg"),
    "audio/x-wav": ("wav", "audio/wav"),
    "audio/ogg": ("ogg", "audio/ogg"),
}
CONTENT_TYPES = {extension: content_type for extension, content_type in AUDIO_TYPES.values()}
AUDIO_PREFIX = "callout_audio/"
# the name callout_audio_path gives: 24 random bytes in url-safe base64 (32 characters) and a known extension
STORED_NAME = re.compile(r"[A-Za-z0-9_-]{32}\.(mp3|wav|ogg)")
NOT_AUDIO = "is not an audio file we can play: upload an MP3, WAV or Ogg file"
SNIFF_BYTES = 262  # what filetype reads


def audio_max_size() -> int:
    """Largest upload in bytes (settings.SCFM_AUDIO_MAX_SIZE, default 10 MiB)."""
    return int(settings.SCFM_AUDIO_MAX_SIZE)


def audio_path(name: str) -> str:
    """The public path of a stored file's name (`callout_audio/<token>.<ext>` -> `/audio/<token>.<ext>`)."""
    return "/audio/" + PurePath(name).name


def audio_kind(upload: UploadedFile) -> str:
    """The stored extension of an audio upload, read from its content; DomainError under `audio_file` when it is
    too large (> audio_max_size bytes), empty or not MP3, WAV or Ogg."""
    if upload.size is not None and upload.size > audio_max_size():
        limit = audio_max_size() // (1024 * 1024)
        raise DomainError({"audio_file": [f"is too large: at most {limit} MB"]})
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = filetype.guess(head) if head else None
    if kind is None or kind.mime not in AUDIO_TYPES:
        raise DomainError({"audio_file": [NOT_AUDIO]})
    return AUDIO_TYPES[kind.mime][0]


@transaction.atomic
def callout_audio_attach(*, callout: Callout, upload: UploadedFile) -> Callout:
    """Store `upload` as the callout's message and point `audio_url` at it; the previous uploaded file is deleted
    once the change is committed (unless a rehearsal copy shares it). Raises DomainError under `audio_file` for a
    file that is too large or not audio (audio_kind)."""
    extension = audio_kind(upload)
    callout = Callout.objects.select_for_update().get(pk=callout.pk)
    previous = callout.audio_file.name if callout.audio_file else None
    callout.audio_file.save(f"audio.{extension}", upload, save=False)
    callout.audio_url = public_url(audio_path(callout.audio_file.name))
    callout.save(update_fields=["audio_file", "audio_url", "updated_at"])
    if previous and not Callout.objects.filter(audio_file=previous).exists():
        storage = callout.audio_file.storage
        transaction.on_commit(lambda: storage.delete(previous))
    return callout
