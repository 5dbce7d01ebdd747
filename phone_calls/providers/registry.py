"""Providers by `platform_provider_name` (account setting, else PLATFORM_PROVIDER); a rehearsal callout's calls
always go to the simulator (`provider_for_call`)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q

from .base import Provider
from .simulator import SimulatorProvider
from .somleng import SomlengProvider
from .twilio import TwilioProvider

PROVIDERS: dict[str, type[Provider]] = {
    provider.name: provider for provider in (TwilioProvider, SomlengProvider, SimulatorProvider)
}


def provider_name(account) -> str:
    return account.platform_provider_name or settings.PLATFORM_PROVIDER or SimulatorProvider.name


def accounts_on_provider(name: str, *, prefix: str = "") -> Q:
    """A filter on accounts (through `prefix`, e.g. "account__" from PhoneCall) whose provider_name is `name`."""
    on_it = Q(**{f"{prefix}platform_provider_name": name})
    if name == (settings.PLATFORM_PROVIDER or SimulatorProvider.name):
        on_it |= Q(**{f"{prefix}platform_provider_name__isnull": True}) | Q(**{f"{prefix}platform_provider_name": ""})
    return on_it


def provider_for_account(account) -> Provider:
    """The adapter that dials for `account`; an unknown name is a configuration error."""
    name = provider_name(account)
    try:
        return PROVIDERS[name].for_account(account)
    except KeyError:
        raise ValueError(f"unknown platform provider {name!r}; expected one of {sorted(PROVIDERS)}") from None


def rehearsal_calls() -> Q:
    """A filter on phone calls of rehearsal callouts: the simulator dials them whatever the account's provider."""
    return Q(callout__is_rehearsal=True)


def real_calls() -> Q:
    """A filter on phone calls that are not a rehearsal's (inbound calls, which have no callout, included)."""
    return Q(callout__isnull=True) | Q(callout__is_rehearsal=False)


def provider_for_call(phone_call) -> Provider:
    """The adapter that dials (and is asked about) `phone_call`: the simulator for a call of a rehearsal callout
    (callouts/rehearsals: practise without calling anyone), else the account's (`provider_for_account`, ValueError
    for an unknown name). Reads the call's callout (one query unless it is cached)."""
    if phone_call.callout_id is not None and phone_call.callout.is_rehearsal:
        return SimulatorProvider.for_account(phone_call.account)
    return provider_for_account(phone_call.account)
