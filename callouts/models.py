from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition

from scfm.models import TimestampedModel


class Callout(FSMModelMixin, TimestampedModel):
    """A campaign: one message (call flow, audio) delivered to many contacts through their participations.

    Only `running` callouts have their calls dialled. initialized -start-> running -pause-> paused,
    running|paused -stop-> stopped, paused|stopped -resume-> running.
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

    class Meta:
        indexes = [
            # the scheduler's "running callouts of an account"
            models.Index(fields=["account", "status"], name="callouts_account_status_idx"),
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
