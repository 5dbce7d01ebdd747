"""The one plain (non-API) view of callouts: an uploaded audio file, as the provider fetches it (callouts/audio.py)."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from .audio import AUDIO_PREFIX, CONTENT_TYPES, STORED_NAME


@require_safe
def callout_audio(request: HttpRequest, name: str) -> FileResponse:
    """GET /audio/<token>.<ext>: the stored file, with its audio Content-Type; 404 for any other name. No
    authentication: the 32 random characters are the secret (the provider fetches it like any <Play> URL)."""
    if not STORED_NAME.fullmatch(name):
        raise Http404
    path = AUDIO_PREFIX + name
    if not default_storage.exists(path):
        raise Http404
    response = FileResponse(default_storage.open(path, "rb"), content_type=CONTENT_TYPES[name.rsplit(".", 1)[1]])
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
