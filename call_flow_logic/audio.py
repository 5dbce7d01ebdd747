"""Where IVR prompts live: SCFM_AUDIO_BASE_URL (default: the original SCFM's public audio bucket)."""

from django.conf import settings


def audio_url(key: str) -> str:
    return f"{settings.SCFM_AUDIO_BASE_URL.rstrip('/')}/{key}"
