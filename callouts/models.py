import secrets
from pathlib import PurePath

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from scfm.models import TimestampedModel


def callout_audio_path(instance, filename: str) -> str:
    """Where an uploaded audio file is stored under MEDIA_ROOT: `callout_audio/<32 random url-safe chars>.<ext>`,
    an unguessable name that is also its public URL (callouts/audio.py)."""
    suffix = PurePath(filename).suffix.lower()[:6]
    return f"callout_audio/{secrets.token_urlsafe(24)}{suffix}"


class Callout(FSMModelMixin, TimestampedModel):
    """A campaign: one message (call flow, audio) delivered to many contacts through their participations.

    Only `running` callouts have their calls dialled. initialized -start-> running -pause-> paused,
    running|paused -stop-> stopped, paused|stopped -resume-> running. A rehearsal (`is_rehearsal`, a copy of
    `rehearsal_of` made by callouts/rehearsals.py) always dials through the simulator, whatever the account's
    provider (phone_calls/providers/registry.py `provider_for_call`). `audio_file` is an uploaded message
    (callouts/audio.py), served at the unguessable URL that `audio_url` then holds.
    """

    class Status(models.TextChoices):
        INITIALIZED = "initialized"
        RUNNING = "running"
        PAUSED = "paused"
        STOPPED = "stopped"

    # indexed by callouts_account_status_idx (Meta), which starts with it
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="callouts", db_index=False)
    status = FSMField(default=Status.INITIALIZED, choices=Status.choices, protected=True)
    call_flow_logic = models.CharField(max_length=255)
    audio_url = models.CharField(max_length=2048, null=True, blank=True)
    settings = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="created_callouts"
    )
    is_rehearsal = models.BooleanField(default=False)
    rehearsal_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="rehearsals"
    )
    # while a rehearsal's participations are being copied: the last participation id of the original copied so far
    # (0 before the first chunk); null once the copy is done, and for every other callout
    rehearsal_copy_cursor = models.BigIntegerField(null=True, blank=True)
    audio_file = models.FileField(upload_to=callout_audio_path, max_length=255, null=True, blank=True)

    class Meta:
        indexes = [
            # the scheduler's "running callouts of an account"
            models.Index(fields=["account", "status"], name="callouts_account_status_idx"),
        ]
        constraints = [
            # only a rehearsal is a copy of another callout
            models.CheckConstraint(
                condition=models.Q(rehearsal_of__isnull=True) | models.Q(is_rehearsal=True),
                name="callouts_rehearsal_of_is_rehearsal",
            ),
        ]

    @transition(field=status, source=Status.INITIALIZED, target=Status.RUNNING)
    def start(self):
        """Begin dialling."""

    @transition(field=status, source=Status.RUNNING, target=Status.PAUSED)
    def pause(self):
        """Stop dispatching new calls for a while."""

    @transition(field=status, source=[Status.PAUSED, Status.STOPPED], target=Status.RUNNING)
    def resume(self):
        """Dispatch again."""

    @transition(field=status, source=[Status.RUNNING, Status.PAUSED], target=Status.STOPPED)
    def stop(self):
        """Stop dispatching; calls already placed run to their end."""


class CalloutParticipation(TimestampedModel):
    """One contact taking part in one callout; its phone calls are the attempts to reach them.

    `answered` turns true when one of its calls completes; `phone_calls_count` counts the attempts. `given_up_at`
    records when SCFM stopped trying: the last attempt ended unanswered (busy, not answered, failed, canceled,
    errored, expired) and no retry follows (the account does not retry that outcome, or every allowed attempt is
    used). A new call (a manual call, a PhoneCallCreate batch) or an answer clears it (callouts/counters.py).
    """

    # no automatic FK indexes: the unique (callout, ...) constraints and participations_contact_idx serve them
    callout = models.ForeignKey(
        Callout, on_delete=models.PROTECT, related_name="callout_participations", db_index=False
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.PROTECT, related_name="callout_participations", db_index=False
    )
    callout_population = models.ForeignKey(
        "batch_operations.BatchOperation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="callout_participations",
        db_index=False,  # participations_pop_idx (Meta)
    )
    msisdn = models.CharField(max_length=32)
    call_flow_logic = models.CharField(max_length=255)
    metadata = models.JSONField(default=dict)
    answered = models.BooleanField(default=False)
    phone_calls_count = models.IntegerField(default=0)
    given_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # a contact takes part in a callout once, and a number is called once per callout
            models.UniqueConstraint(fields=["callout", "contact"], name="participations_unique_contact_per_callout"),
            models.UniqueConstraint(fields=["callout", "msisdn"], name="participations_unique_msisdn_per_callout"),
        ]
        indexes = [
            # /api/contacts/:id/callout_participations and the contact delete check
            models.Index(fields=["contact"], name="participations_contact_idx"),
            # a population's results (/api/batch_operations/:id/callout_participations, callouts.selectors) and the
            # operation's PROTECT check on delete
            models.Index(fields=["callout_population"], name="participations_pop_idx"),
            # /api/callouts/:id/callout_participations, newest first (keyset over the callout's rows)
            models.Index(fields=["callout", "-id"], name="participations_callout_id_idx"),
        ]


class CalloutCount(models.Model):
    """One change to a callout's live numbers: `count` added to counter `key` (callouts/counters.py).

    Writers insert a row per change in the transaction that makes it (never updating a shared row, so concurrent
    writers do not queue on one lock); the squash task (counters.callout_counts_squash) periodically replaces a
    callout's rows by one row per key and minute. A row with `minute` NULL is a running total (statistics); a row
    with `minute` set is one minute of the progress series (counters.SERIES_KEYS).
    """

    id = models.BigAutoField(primary_key=True)
    # indexed by callout_counts_read_idx (Meta), which starts with it
    callout = models.ForeignKey(Callout, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=40)
    minute = models.DateTimeField(null=True, blank=True)
    count = models.BigIntegerField()
    is_squashed = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # statistics (minute IS NULL) and the series (a minute range) of one callout
            models.Index(fields=["callout", "minute", "key"], name="callout_counts_read_idx"),
            # the squash task: callouts with rows not yet squashed
            models.Index(fields=["callout"], condition=models.Q(is_squashed=False), name="callout_counts_unsq_idx"),
        ]


class CalloutEvent(models.Model):
    """Who started, paused, resumed or stopped a callout, and when: one row per event applied
    (callouts.services.callout_fire_event), shown on the dashboard's callout page.

    A dashboard user is `user` (and `account`, the user's account); an API call is `access_token` and the token's
    `account` (a user is not known there). The references are kept loose (SET_NULL) so removing a user or a token
    keeps the history; the rows go with their callout.
    """

    class Event(models.TextChoices):
        START = "start", _("Started")
        PAUSE = "pause", _("Paused")
        RESUME = "resume", _("Resumed")
        STOP = "stop", _("Stopped")

    id = models.BigAutoField(primary_key=True)
    callout = models.ForeignKey(Callout, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=16, choices=Event.choices)
    from_status = models.CharField(max_length=16, choices=Callout.Status.choices)
    to_status = models.CharField(max_length=16, choices=Callout.Status.choices)
    user = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    access_token = models.ForeignKey(
        "accounts.AccessToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    account = models.ForeignKey("accounts.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # a callout's history on its page, newest first
            models.Index(fields=["callout", "-id"], name="callout_events_callout_idx"),
        ]
