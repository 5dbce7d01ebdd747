import factory

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
