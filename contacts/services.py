"""Writes of contacts; every entry point (API, webhooks, commands) goes through these. CSV imports: imports.py."""

from django.db import IntegrityError, transaction

from accounts.models import Account
from scfm.errors import DomainError, duplicate_row, ensure_no_dependents
from scfm.metadata import merge_metadata

from .models import Contact
from .phone_numbers import valid_msisdn

TAKEN = DomainError({"msisdn": ["has already been taken"]})


def contact_create(
    *, account: Account, msisdn: str, metadata: dict | None = None, metadata_merge_mode: str | None = None
) -> Contact:
    """Create a contact; a number the account already has is a 422, also when two requests race."""
    contact = Contact(account=account, msisdn=valid_msisdn(msisdn), metadata=merge_metadata({}, metadata))
    with duplicate_row(TAKEN):
        contact.save()
    return contact


def contact_update(
    *, contact: Contact, msisdn: str | None = None, metadata: dict | None = None, metadata_merge_mode: str | None = None
) -> Contact:
    """Change a contact's number and/or metadata; an invalid number or one the account already has is a 422."""
    if msisdn is not None:
        contact.msisdn = valid_msisdn(msisdn)
    contact.metadata = merge_metadata(contact.metadata, metadata, metadata_merge_mode)
    with duplicate_row(TAKEN):
        contact.save()
    return contact


@transaction.atomic
def contact_upsert(
    *, account: Account, msisdn: str, metadata: dict | None = None, metadata_merge_mode: str | None = None
) -> Contact:
    """contact_data: update the contact with this number, or create it; never a duplicate, even under races."""
    normalized = valid_msisdn(msisdn)
    for _attempt in range(3):
        contact = Contact.objects.select_for_update().filter(account=account, msisdn=normalized).first()
        if contact:
            contact.metadata = merge_metadata(contact.metadata, metadata, metadata_merge_mode)
            contact.save(update_fields=["metadata", "updated_at"])
            return contact
        try:
            with transaction.atomic():
                return Contact.objects.create(account=account, msisdn=normalized, metadata=merge_metadata({}, metadata))
        except IntegrityError:
            continue
    raise TAKEN


def contact_delete(*, contact: Contact) -> None:
    """Delete a contact unless it takes part in callouts or has phone calls."""
    ensure_no_dependents(
        contact, [("callout_participations", "callout participations"), ("phone_calls", "phone calls")]
    )
    contact.delete()
