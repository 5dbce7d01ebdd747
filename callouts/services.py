"""Writes of callouts and callout participations; every entry point (API, tasks, commands) goes through these."""

import logging

from django.db import transaction

from accounts.models import Account
from contacts.phone_numbers import valid_msisdn
from contacts.selectors import contact_get
from phone_calls.dispatch import account_dispatch_kick
from scfm.errors import DomainError, dependents_exist, duplicate_row, ensure_no_dependents
from scfm.metadata import merge_metadata

from . import counters
from .models import Callout, CalloutEvent, CalloutParticipation

logger = logging.getLogger(__name__)

CALLOUT_EVENTS = ("start", "pause", "resume", "stop")
DISPATCHING_EVENTS = ("start", "resume")
INVALID_EVENT = DomainError({"event": ["is not included in the list"]})


def callout_create(
    *,
    account: Account,
    call_flow_logic: str | None = None,
    audio_url: str | None = None,
    settings: dict | None = None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
    created_by=None,
) -> Callout:
    """Create a callout in `initialized`; its call flow defaults to the account's."""
    return Callout.objects.create(
        account=account,
        call_flow_logic=call_flow_logic or account.call_flow_logic,
        audio_url=audio_url,
        settings=settings or {},
        metadata=merge_metadata({}, metadata),
        created_by=created_by,
    )


_UNSET = object()


def callout_update(
    *,
    callout: Callout,
    call_flow_logic: str | None = None,
    audio_url=_UNSET,
    settings: dict | None = None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
) -> Callout:
    """Update a callout; `settings` is replaced as a whole, metadata follows metadata_merge_mode."""
    if call_flow_logic:
        callout.call_flow_logic = call_flow_logic
    if audio_url is not _UNSET:
        callout.audio_url = audio_url
    if settings is not None:
        callout.settings = settings
    callout.metadata = merge_metadata(callout.metadata, metadata, metadata_merge_mode)
    callout.save(update_fields=["call_flow_logic", "audio_url", "settings", "metadata", "updated_at"])
    return callout


def callout_delete(*, callout: Callout) -> None:
    """Delete a callout that has neither participations nor batch operations."""
    ensure_no_dependents(
        callout,
        [("callout_participations", "callout participations"), ("batch_operations", "batch operations")],
    )
    callout.delete()


@transaction.atomic
def callout_fire_event(
    *, callout: Callout, event: str, user=None, access_token=None, actor_account: Account | None = None
) -> Callout:
    """Apply start|pause|resume|stop; an event the current status does not allow is a 422 (DomainError).

    Records who did it and when (a CalloutEvent row in the same transaction): `user` from the dashboard,
    `access_token` from the API; `actor_account` defaults to the user's or the token's account.
    Starting or resuming asks the dispatcher to look at the account's calls once the change is committed.
    """
    callout = Callout.objects.select_for_update().get(pk=callout.pk)
    allowed = {transition.name for transition in callout.get_available_status_transitions()}  # type: ignore[attr-defined]
    if event not in CALLOUT_EVENTS or event not in allowed:
        raise INVALID_EVENT
    from_status = callout.status
    getattr(callout, event)()
    callout.save(update_fields=["status", "updated_at"])
    if actor_account is None:
        actor_account = getattr(user, "account", None) or getattr(access_token, "account", None)
    CalloutEvent.objects.create(
        callout=callout,
        event=event,
        from_status=from_status,
        to_status=callout.status,
        user=user,
        access_token=access_token,
        account=actor_account,
    )
    if event in DISPATCHING_EVENTS:
        account_id = callout.account_id
        transaction.on_commit(lambda: account_dispatch_kick(account_id))
    return callout


# --- participations -------------------------------------------------------------------------------------------------


def _duplicate_error(participation: CalloutParticipation) -> DomainError:
    """Which unique rule a rejected participation broke: its contact is in the callout already, or its number."""
    same_contact = CalloutParticipation.objects.filter(
        callout_id=participation.callout_id, contact_id=participation.contact_id
    ).exclude(pk=participation.pk)
    return DomainError({"contact_id" if same_contact.exists() else "msisdn": ["has already been taken"]})


def callout_participation_create(
    *,
    callout: Callout,
    contact_id: int | None = None,
    msisdn: str | None = None,
    call_flow_logic: str | None = None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
) -> CalloutParticipation:
    """Add a contact of the callout's account to the callout. msisdn defaults to the contact's and call_flow_logic
    to the callout's; the same contact or number twice in a callout is a 422, also when two requests race."""
    contact = contact_get(account_id=callout.account_id, contact_id=contact_id) if contact_id else None
    if contact is None:
        errors = {} if msisdn else {"msisdn": ["can't be blank"]}
        raise DomainError({**errors, "contact": ["must exist"]})
    participation = CalloutParticipation(
        callout=callout,
        contact=contact,
        msisdn=valid_msisdn(msisdn) if msisdn else contact.msisdn,
        call_flow_logic=call_flow_logic or callout.call_flow_logic,
        metadata=merge_metadata({}, metadata),
    )
    with duplicate_row(lambda: _duplicate_error(participation)), transaction.atomic():
        participation.save()
        counters.counts_add(callout.pk, {counters.PARTICIPATIONS: 1})
    return participation


def callout_participation_update(
    *,
    participation: CalloutParticipation,
    msisdn: str | None = None,
    call_flow_logic: str | None = None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
) -> CalloutParticipation:
    """Change the number, call flow or metadata of a participation (its contact never changes)."""
    if msisdn:
        participation.msisdn = valid_msisdn(msisdn)
    if call_flow_logic:
        participation.call_flow_logic = call_flow_logic
    participation.metadata = merge_metadata(participation.metadata, metadata, metadata_merge_mode)
    with duplicate_row(lambda: _duplicate_error(participation)):
        participation.save(update_fields=["msisdn", "call_flow_logic", "metadata", "updated_at"])
    return participation


def callout_participations_set_metadata(*, callout_population, metadata: dict) -> int:
    """Replace the metadata of every participation a callout population (a BatchOperation) added; returns how many
    participations changed (callouts_populate's --metadata)."""
    return CalloutParticipation.objects.filter(callout_population=callout_population).update(metadata=metadata)


@transaction.atomic
def callout_participation_delete(*, participation: CalloutParticipation) -> None:
    """Remove a contact from a callout.

    Refused while the participation has a phone call that was dialled (any status but `created`, or a dispatch
    stamp). Calls still waiting in `created` (the one a population seeds) were never dialled and go with it, so a
    populated contact can be taken out of a callout before it starts.
    """
    from phone_calls.models import PhoneCall

    calls = list(PhoneCall.objects.select_for_update().filter(callout_participation=participation))
    if any(call.status != PhoneCall.Status.CREATED or call.dispatched_at is not None for call in calls):
        raise dependents_exist("phone calls")
    participation = CalloutParticipation.objects.select_for_update().get(pk=participation.pk)
    deltas = {
        counters.PARTICIPATIONS: -1,
        counters.ANSWERED: -int(participation.answered),
        counters.GIVEN_UP: -int(participation.given_up_at is not None),
        counters.CALL_KEYS[PhoneCall.Status.CREATED]: -len(calls),
    }
    PhoneCall.objects.filter(pk__in=[call.pk for call in calls]).delete()
    participation.delete()
    counters.counts_add(participation.callout_id, deltas)
