from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition

from scfm.models import TimestampedModel


class BatchOperation(FSMModelMixin, TimestampedModel):
    """A bulk job over many rows, previewed before it runs: populating a callout, or (legacy) creating,
    queueing and refreshing phone calls. preview -queue-> queued -start-> running -finish-> finished,
    finished -requeue-> queued (and running -requeue-> queued when its worker died). `processed_count` and `cursor`
    record progress so a crashed run resumes.
    """

    class Type(models.TextChoices):
        CALLOUT_POPULATION = "BatchOperation::CalloutPopulation"
        PHONE_CALL_CREATE = "BatchOperation::PhoneCallCreate"
        PHONE_CALL_QUEUE = "BatchOperation::PhoneCallQueue"
        PHONE_CALL_QUEUE_REMOTE_FETCH = "BatchOperation::PhoneCallQueueRemoteFetch"

    class Status(models.TextChoices):
        PREVIEW = "preview"
        QUEUED = "queued"
        RUNNING = "running"
        FINISHED = "finished"

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="batch_operations")
    callout = models.ForeignKey(
        "callouts.Callout", on_delete=models.PROTECT, null=True, blank=True, related_name="batch_operations"
    )
    type = models.CharField(max_length=64, choices=Type.choices)
    parameters = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict)
    status = FSMField(default=Status.PREVIEW, choices=Status.choices, protected=True)
    processed_count = models.IntegerField(default=0)
    cursor = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # batch-operation lists of an account, filtered by status
            models.Index(fields=["account", "status"], name="batch_ops_account_st_idx"),
            # /api/callouts/:id/batch_operations
            models.Index(fields=["callout"], name="batch_ops_callout_idx"),
        ]

    @transition(field=status, source=Status.PREVIEW, target=Status.QUEUED)
    def queue(self):
        """Hand the operation to a worker."""

    @transition(field=status, source=[Status.FINISHED, Status.RUNNING], target=Status.QUEUED)
    def requeue(self):
        """Run a finished operation again (adds only what is new), or hand a stuck running one to a new worker."""

    @transition(field=status, source=[Status.QUEUED, Status.RUNNING], target=Status.RUNNING)
    def start(self):
        """A worker picked it up (running -> running resumes a crashed run)."""

    @transition(field=status, source=Status.RUNNING, target=Status.FINISHED)
    def finish(self):
        """Every chunk is done."""
