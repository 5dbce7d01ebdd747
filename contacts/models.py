from django.db import models

from scfm.models import TimestampedModel


class Contact(TimestampedModel):
    """A person an account can call: an E.164 phone number plus free-form metadata (name, location, language...)."""

    # indexed by contacts_account_id_idx (Meta), which starts with it
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="contacts", db_index=False)
    msisdn = models.CharField(max_length=32)
    metadata = models.JSONField(default=dict)

    class Meta:
        constraints = [
            # one contact per number per account; also what contact_data upserts on
            models.UniqueConstraint(fields=["account", "msisdn"], name="contacts_unique_msisdn_per_account"),
        ]
        indexes = [
            # an account's contacts by id: list pages (newest first) and population chunks (id ranges)
            models.Index(fields=["account", "id"], name="contacts_account_id_idx"),
            # created_at / updated_at range filters
            models.Index(fields=["created_at"], name="contacts_created_at_idx"),
            models.Index(fields=["updated_at"], name="contacts_updated_at_idx"),
        ]


def contact_import_storage():
    """Uploaded CSV files live under SCFM_DATA_DIR/media, a volume the web server and the workers share."""
    from django.conf import settings
    from django.core.files.storage import FileSystemStorage

    return FileSystemStorage(location=settings.DATA_DIR / "media")


class ContactImport(TimestampedModel):
    """One CSV upload of contacts and its progress: the file, a status, row counters and the rejected rows.

    A background task reads the file in chunks and upserts each chunk; counters and rejected rows are saved in
    the same transaction as the chunk, so a redelivered task resumes after the last committed chunk.
    `error_rows` keeps the first MAX_ERROR_ROWS rejected rows (`{"line": 7, "errors": {"msisdn": ["is invalid"]}}`);
    `error_count` counts them all.
    """

    MAX_ERROR_ROWS = 1000

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="contact_imports")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to="contact_imports/%Y/%m/%d", storage=contact_import_storage, max_length=255)
    filename = models.CharField(max_length=255, blank=True, default="")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    error_rows = models.JSONField(default=list)
    error_message = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # GET /api/contact_imports: the account's imports, newest first
            models.Index(fields=["account", "-id"], name="contact_imports_account_idx"),
        ]
