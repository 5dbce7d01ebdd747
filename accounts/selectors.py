from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower

from .models import AccessToken, Account, User


def _count_of(model_label: str):
    from django.apps import apps

    model = apps.get_model(model_label)
    counts = model.objects.filter(account=OuterRef("pk")).order_by().values("account").annotate(n=Count("pk"))
    return Coalesce(Subquery(counts.values("n")[:1], output_field=IntegerField()), 0)


def account_list() -> QuerySet[Account]:
    """Every account (super admins only), with the contact and phone-call counts the API shows."""
    return Account.objects.annotate(
        contacts_count=_count_of("contacts.Contact"), phone_calls_count=_count_of("phone_calls.PhoneCall")
    )


def account_find_by_platform_sid(account_sid: str | None) -> Account | None:
    """The account a webhook's AccountSid names: `AC...` is a Twilio SID, anything else a Somleng one."""
    if not account_sid:
        return None
    column = "twilio_account_sid" if account_sid.startswith("AC") else "somleng_account_sid"
    return Account.objects.annotate(sid=Lower(column)).filter(sid=account_sid.lower()).first()


def access_token_list(*, account: Account) -> QuerySet[AccessToken]:
    return AccessToken.objects.filter(account=account)


def user_list(*, account: Account) -> QuerySet[User]:
    return User.objects.filter(account=account)
