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

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="callouts")
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

    `answered` turns true when one of its calls completes; `phone_calls_count` counts the attempts.
    """

    callout = models.ForeignKey(Callout, on_delete=models.PROTECT, related_name="callout_participations")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT, related_name="callout_participations")
    callout_population = models.ForeignKey(
        "batch_operations.BatchOperation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="callout_participations",
    )
    msisdn = models.CharField(max_length=32)
    call_flow_logic = models.CharField(max_length=255)
    metadata = models.JSONField(default=dict)
    answered = models.BooleanField(default=False)
    phone_calls_count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # a contact takes part in a callout once, and a number is called once per callout
            models.UniqueConstraint(fields=["callout", "contact"], name="participations_unique_contact_per_callout"),
            models.UniqueConstraint(fields=["callout", "msisdn"], name="participations_unique_msisdn_per_callout"),
        ]
        indexes = [
            # /api/contacts/:id/callout_participations and the contact delete check
            models.Index(fields=["contact"], name="participations_contact_idx"),
            # a population's results
            models.Index(fields=["callout_population"], name="participations_pop_idx"),
        ]
