"""Where IVR prompts live: SCFM_AUDIO_BASE_URL (default: the original SCFM's public audio bucket)."""

import os

from django.conf import settings

DEFAULT_AUDIO_BASE_URL = "https://s3.ap-southeast-1.amazonaws.com/audio.somleng.org"


def audio_url(key: str) -> str:
    base = getattr(settings, "SCFM_AUDIO_BASE_URL", None) or os.environ.get("SCFM_AUDIO_BASE_URL")
    return f"{(base or DEFAULT_AUDIO_BASE_URL).rstrip('/')}/{key}"
