"""Call me first: one real call of a callout's message to the signed-in user's own number, before starting (issue 14).

The user's number is `accounts.User.phone_number`, E.164, normalised by contacts/phone_numbers.py (set with
`user_phone_number_set`; here, not in accounts, because accounts sits below contacts). The call goes through the
normal dialling path of a call made by hand and queued at once (the `queue` event: services.phone_call_fire_event,
then dialling.py with its dispatch stamp), whatever the callout's status, through the provider that would dial the
callout (the simulator for a rehearsal). It belongs to the callout (so the call flow plays the callout's audio, and
the callout's counters count it) but to no participation or contact: the user is not one of the callout's people.
"""

from django.db import transaction

from accounts.models import User
from callouts import counters
from callouts.models import Callout
from contacts.phone_numbers import valid_msisdn
from scfm.errors import DomainError

from .models import PhoneCall
from .services import phone_call_fire_event

NO_NUMBER = DomainError({"phone_number": ["is not set: add your own phone number to be called first"]})


def user_phone_number_set(*, user: User, phone_number: str | None) -> User:
    """Store the user's own number in E.164; blank clears it. A number that can't be read raises DomainError
    under `phone_number` (contacts/phone_numbers.py's messages)."""
    text = (phone_number or "").strip()
    user.phone_number = valid_msisdn(text, field="phone_number") if text else ""
    user.save(update_fields=["phone_number", "updated_at"])
    return user


def callout_call_me(*, callout: Callout, user: User) -> PhoneCall:
    """Dial `user`'s own number now with `callout`'s call flow and audio (metadata `{"call_me_first": true,
    "user_id": id}`); returns the queued call. Raises DomainError under `phone_number` when the user has no number.
    Works in any status of the callout (typically `initialized`, before starting it)."""
    if not user.phone_number:
        raise NO_NUMBER
    msisdn = valid_msisdn(user.phone_number, field="phone_number")
    with transaction.atomic():
        call = PhoneCall.objects.create(
            account_id=callout.account_id,
            callout=callout,
            msisdn=msisdn,
            call_flow_logic=callout.call_flow_logic,
            metadata={"call_me_first": True, "user_id": user.pk},
        )
        counters.call_moved(callout.pk, None, call.status)
        return phone_call_fire_event(phone_call=call, event="queue")
