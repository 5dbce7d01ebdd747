"""Recordings made with <Record>: stored from the provider's recording status callback, audio fetched later."""

import logging

import requests
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from accounts.models import Account

from .lifecycle import seconds
from .models import PhoneCall, Recording
from .remote_events import RemoteEventInvalid

logger = logging.getLogger(__name__)

AUDIO_FETCH_TIMEOUT_SECONDS = 30
REQUIRED_PARAMS = ("CallSid", "RecordingSid", "RecordingUrl")


@transaction.atomic
def recording_status_callback_handle(*, account: Account, params: dict) -> Recording:
    """Store the recording a callback announces (once per RecordingSid) and fetch its audio after commit."""
    missing = [name for name in REQUIRED_PARAMS if not str(params.get(name) or "").strip()]
    if missing:
        raise RemoteEventInvalid(f"missing {', '.join(missing)}")
    call = PhoneCall.objects.filter(account=account, remote_call_id=params["CallSid"]).first()
    if call is None:
        raise RemoteEventInvalid("unknown CallSid")
    existing = Recording.objects.filter(external_recording_id=params["RecordingSid"]).first()
    if existing is not None:
        return _same_account(existing, account)
    try:
        with transaction.atomic():
            recording = Recording.objects.create(
                account=account,
                phone_call=call,
                contact_id=call.contact_id,
                external_recording_id=params["RecordingSid"],
                external_recording_url=params["RecordingUrl"],
                duration=seconds(params.get("RecordingDuration")),
            )
    except IntegrityError:  # the same callback delivered twice at once
        return _same_account(Recording.objects.get(external_recording_id=params["RecordingSid"]), account)
    transaction.on_commit(lambda: _enqueue_fetch(recording.pk))
    return recording


def _same_account(recording: Recording, account: Account) -> Recording:
    if recording.account_id != account.pk:
        raise RemoteEventInvalid("RecordingSid belongs to another account")
    return recording


def _enqueue_fetch(recording_id: int) -> None:
    from .tasks import recording_audio_fetch_task

    recording_audio_fetch_task.delay(recording_id)


def _credentials(account: Account, url: str) -> tuple[str, str] | None:
    for sid, token in (
        (account.twilio_account_sid, account.twilio_auth_token),
        (account.somleng_account_sid, account.somleng_auth_token),
    ):
        if sid and token and sid.lower() in url.lower():
            return sid, token
    sid, token = (
        (account.twilio_account_sid, account.twilio_auth_token)
        if account.twilio_account_sid
        else (account.somleng_account_sid, account.somleng_auth_token)
    )
    return (sid, token) if sid and token else None


def recording_audio_fetch(*, recording_id: int) -> Recording | None:
    """Download `RecordingUrl.mp3` (basic auth with the account's credentials) into audio_file; once only.

    Raises requests.RequestException on network errors and non-2xx answers so the task can retry.
    """
    recording = Recording.objects.select_related("account").filter(pk=recording_id).first()
    if recording is None:
        logger.info("fetching the audio of recording %s skipped: the recording no longer exists", recording_id)
        return None
    if recording.audio_file:
        return recording
    url = f"{recording.external_recording_url}.mp3"
    response = requests.get(
        url, auth=_credentials(recording.account, url), timeout=AUDIO_FETCH_TIMEOUT_SECONDS, allow_redirects=True
    )
    response.raise_for_status()
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=recording_id)
        if not locked.audio_file:
            locked.audio_file.save(f"{locked.external_recording_id}.mp3", ContentFile(response.content), save=False)
            locked.save(update_fields=["audio_file", "updated_at"])
    return locked
