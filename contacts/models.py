from django.db import models

from scfm.models import TimestampedModel


class Contact(TimestampedModel):
    """A person an account can call: an E.164 phone number plus free-form metadata (name, location, language...)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="contacts")
    msisdn = models.CharField(max_length=32)
    metadata = models.JSONField(default=dict)

    class Meta:
        constraints = [
            # one contact per number per account; also what contact_data upserts on
            models.UniqueConstraint(fields=["account", "msisdn"], name="contacts_unique_msisdn_per_account"),
        ]
        indexes = [
            # created_at / updated_at range filters
            models.Index(fields=["created_at"], name="contacts_created_at_idx"),
            models.Index(fields=["updated_at"], name="contacts_updated_at_idx"),
        ]
