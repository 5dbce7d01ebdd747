"""Celery wrappers for recordings (loaded by call_flow_logic.apps so the worker registers them)."""

import requests
from celery import shared_task

from .recordings import recording_audio_fetch


@shared_task(
    acks_late=True,
    autoretry_for=(requests.RequestException,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def recording_audio_fetch_task(recording_id: int) -> None:
    """Fetch a recording's audio from the provider; a recording that already has it is left alone."""
    recording_audio_fetch(recording_id=recording_id)
