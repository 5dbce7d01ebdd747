"""factory_boy factories for every model, with traits for the states tests start from.

Traits (`PhoneCallFactory(dialled=True)`): a `running` callout, a `queued` batch operation, a `dialled` or
`completed` phone call, a participation with an `answered_call`. A call's traits also set up the participation the
factory builds for it (its call count, `answered`); a participation passed in explicitly is left as it is.
"""

import factory
from django.utils import timezone

from accounts.models import AccessToken, Account, Permission, User
from contacts.models import Contact


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    metadata = factory.LazyFunction(dict)


class AccessTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessToken

    account = factory.SubFactory(AccountFactory)
    created_by = factory.SelfAttribute("account")
    permissions = factory.LazyFunction(lambda: list(Permission.values))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    account = factory.SubFactory(AccountFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "secret123")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    msisdn = factory.Sequence(lambda n: f"+2526623{n:05d}")
    metadata = factory.LazyFunction(dict)


class CalloutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "callouts.Callout"

    account = factory.SubFactory(AccountFactory)
    call_flow_logic = "CallFlowLogic::HelloWorld"
    metadata = factory.LazyFunction(dict)
    settings = factory.LazyFunction(dict)

    class Params:
        running = factory.Trait(status="running")  # started: the dispatcher dials its created calls


class CountedCalloutRows:
    """Factories write rows directly, past the services that keep a callout's counters (callouts/counters.py):
    recount the callout after each row, so statistics and list totals agree with the rows as in production."""

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        super()._after_postgeneration(instance, create, results)  # type: ignore[misc]
        if create and instance.callout_id:
            from callouts.counters import callout_counts_recount

            callout_counts_recount(callout_ids=[instance.callout_id], lock=False)


class CalloutParticipationFactory(CountedCalloutRows, factory.django.DjangoModelFactory):
    class Meta:
        model = "callouts.CalloutParticipation"

    callout = factory.SubFactory(CalloutFactory)
    contact = factory.SubFactory(ContactFactory, account=factory.SelfAttribute("..callout.account"))
    msisdn = factory.SelfAttribute("contact.msisdn")
    call_flow_logic = factory.SelfAttribute("callout.call_flow_logic")
    metadata = factory.LazyFunction(dict)

    class Params:
        # called once and answered: its one call completed (created by the trait)
        answered_call = factory.Trait(
            answered=True,
            phone_calls_count=1,
            completed_call=factory.RelatedFactory(
                "tests.factories.PhoneCallFactory", factory_related_name="callout_participation", completed=True
            ),
        )


class BatchOperationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "batch_operations.BatchOperation"

    account = factory.SelfAttribute("callout.account")
    callout = factory.SubFactory(CalloutFactory)
    type = "BatchOperation::CalloutPopulation"
    parameters = factory.LazyFunction(dict)
    metadata = factory.LazyFunction(dict)

    class Params:
        queued = factory.Trait(status="queued")  # queued by its user: the next run picks it up


class PhoneCallFactory(CountedCalloutRows, factory.django.DjangoModelFactory):
    class Meta:
        model = "phone_calls.PhoneCall"

    callout_participation = factory.SubFactory(CalloutParticipationFactory)
    callout = factory.SelfAttribute("callout_participation.callout")
    account = factory.SelfAttribute("callout.account")
    contact = factory.SelfAttribute("callout_participation.contact")
    msisdn = factory.SelfAttribute("callout_participation.msisdn")
    call_flow_logic = factory.SelfAttribute("callout_participation.call_flow_logic")

    class Params:
        # dispatched and accepted by the provider: stamped, with the provider's call id, awaiting callbacks
        dialled = factory.Trait(
            status="remotely_queued",
            remote_call_id=factory.Sequence(lambda n: f"CA{n:032x}"),
            remote_status="queued",
            remote_direction="outbound-api",
            dispatched_at=factory.LazyFunction(timezone.now),
            remotely_queued_at=factory.LazyFunction(timezone.now),
            callout_participation__phone_calls_count=1,
        )
        # dialled, then answered and hung up: the provider reported `completed` with a duration
        completed = factory.Trait(
            dialled=True,
            status="completed",
            remote_status="completed",
            duration=42,
            callout_participation__answered=True,
        )
