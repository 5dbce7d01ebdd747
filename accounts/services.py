from django.conf import settings as django_settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from scfm.errors import DomainError, duplicate_row, ensure_no_dependents
from scfm.metadata import merge_metadata

from .models import AccessToken, Account, Permission, User
from .settings import initial_settings, validate_settings
from .signals import account_provider_changed

ACCOUNT_FIELDS = (
    "twilio_account_sid",
    "somleng_account_sid",
    "twilio_auth_token",
    "somleng_auth_token",
    "call_flow_logic",
    "platform_provider_name",
    "somleng_api_host",
    "somleng_api_base_url",
)


# what the dialler needs to reach the provider: changing any of them may end a dialling pause
PROVIDER_FIELDS = (
    "twilio_account_sid",
    "somleng_account_sid",
    "twilio_auth_token",
    "somleng_auth_token",
    "platform_provider_name",
    "somleng_api_host",
    "somleng_api_base_url",
)


def _save_account(account: Account) -> Account:
    for column in ("twilio_account_sid", "somleng_account_sid"):
        value = getattr(account, column)
        if value:
            setattr(account, column, value.strip())
            clash = Account.objects.exclude(pk=account.pk).filter(**{f"{column}__iexact": value.strip()})
            if clash.exists():
                raise DomainError({column: ["has already been taken"]})
    with duplicate_row(DomainError({"base": ["an account with this SID already exists"]})):
        if account._state.adding:
            account.save()
        else:  # never the dialling pause: the dialler may have changed it since this account was read
            fields = [f.name for f in Account._meta.concrete_fields if not f.primary_key]
            account.save(update_fields=[name for name in fields if name not in Account.DIALLING_PAUSE_FIELDS])
    return account


def account_create(
    *, settings: dict | None = None, metadata: dict | None = None, metadata_merge_mode: str | None = None, **fields
) -> Account:
    """Create an account; settings start from the documented defaults (accounts/settings.py).

    Raises DomainError when a known setting is out of its range (validate_settings) or a SID is taken."""
    settings = {**initial_settings(), **(settings or {})}
    validate_settings(settings)
    account = Account(
        settings=settings,
        metadata=merge_metadata({}, metadata),
        **{key: value for key, value in fields.items() if key in ACCOUNT_FIELDS},
    )
    return _save_account(account)


def account_update(
    *,
    account: Account,
    settings: dict | None = None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
    **fields,
) -> Account:
    """Update an account. A new settings hash replaces the old one (defaults fill what it leaves out).

    Raises DomainError when a known setting is out of its range (validate_settings) or a SID is taken. A change of
    the provider credentials or address sends `account_provider_changed` (a paused account's dialling then tries
    again at once: phone_calls/dialling_pauses.py)."""
    provider_changed = False
    for key, value in fields.items():
        if key in ACCOUNT_FIELDS:
            provider_changed |= key in PROVIDER_FIELDS and getattr(account, key) != value
            setattr(account, key, value)
    if settings is not None:
        settings = {**initial_settings(), **settings}
        validate_settings(settings)
        account.settings = settings
    account.metadata = merge_metadata(account.metadata, metadata, metadata_merge_mode)
    account = _save_account(account)
    if provider_changed:
        account_provider_changed.send(sender=Account, account_id=account.pk)
    return account


def account_delete(*, account: Account) -> None:
    """Delete an account that owns nothing."""
    ensure_no_dependents(
        account,
        [
            ("users", "users"),
            ("access_tokens", "access tokens"),
            ("contacts", "contacts"),
            ("callouts", "callouts"),
            ("batch_operations", "batch operations"),
        ],
    )
    account.delete()


@transaction.atomic
def super_admin_account_ensure() -> Account:
    """The super-admin account, created on first use."""
    account = None
    for candidate in Account.objects.order_by("pk").only("pk", "permissions"):
        if "super_admin" in (candidate.permissions or []):
            account = Account.objects.get(pk=candidate.pk)
            break
    if account is None:
        account = Account.objects.create(permissions=["super_admin"], metadata={"name": "Super Admin"})
    return account


@transaction.atomic
def super_admin_token_ensure() -> AccessToken:
    """An access token of the super-admin account holding every permission (bootstrap)."""
    account = super_admin_account_ensure()
    everything = sorted(Permission.values)
    for token in AccessToken.objects.filter(account=account).order_by("pk"):
        if set(everything) <= set(token.permissions):
            return token
    return AccessToken.objects.create(
        account=account, created_by=account, permissions=everything, metadata={"name": "bootstrap"}
    )


def access_token_create(
    *,
    principal,
    account: Account,
    permissions: list[str] | None = None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
) -> AccessToken:
    """Create a token for `account` holding `permissions` (a list of `Permission` values).

    Raises DomainError (422 `{"errors": {"permissions": [...]}}`) when the caller's token does not hold every one of
    `permissions` itself: no token grants what it lacks, a super admin's included (a super admin may create tokens for
    other accounts, but only with permissions its own token holds).
    """
    permissions = sorted(set(permissions or []))
    _check_grantable(principal, permissions)
    return AccessToken.objects.create(
        account=account, created_by=principal.account, permissions=permissions, metadata=merge_metadata({}, metadata)
    )


def _check_grantable(principal, permissions: list[str]) -> None:
    """Refuse permissions the caller's token does not hold (no exception for super admins: they hold what they hold)."""
    missing = sorted(set(permissions) - set(principal.permissions))
    if missing:
        raise DomainError({"permissions": [f"cannot grant permissions the caller does not hold: {', '.join(missing)}"]})


def access_token_update(
    *,
    principal,
    token: AccessToken,
    permissions: list[str] | None = None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
) -> AccessToken:
    """Update a token's metadata and, when given, replace its permissions.

    Raises DomainError (422) when the new permissions include one the caller's token does not hold, as in
    `access_token_create`; the token is left unchanged.
    """
    if permissions is not None:
        permissions = sorted(set(permissions))
        _check_grantable(principal, permissions)
        token.permissions = permissions
    token.metadata = merge_metadata(token.metadata, metadata, metadata_merge_mode)
    token.save()
    return token


def access_token_delete(*, principal, token: AccessToken) -> None:
    """Only the account that created a token, or a super admin, may delete it."""
    if not principal.is_super_admin and token.created_by_id not in (None, principal.account.pk):
        raise DomainError({"base": ["Cannot delete record because the destroyer is not the creator"]})
    token.delete()


def user_create(
    *,
    account: Account,
    email: str,
    password: str | None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
    locale: str | None = None,
) -> User:
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError({"email": ["has already been taken"]})
    with duplicate_row(DomainError({"email": ["has already been taken"]})):
        return User.objects.create_user(
            email=email,
            password=password,
            account=account,
            metadata=merge_metadata({}, metadata),
            locale=locale or "en",
        )


def user_update(
    *,
    user: User,
    email: str | None = None,
    password: str | None = None,
    metadata: dict | None = None,
    metadata_merge_mode: str | None = None,
    locale: str | None = None,
) -> User:
    if email is not None and email.lower() != user.email.lower():
        if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
            raise DomainError({"email": ["has already been taken"]})
        user.email = email
    if password:
        user.set_password(password)
    if locale:
        user.locale = locale
    user.metadata = merge_metadata(user.metadata, metadata, metadata_merge_mode)
    user.save()
    return user


def user_delete(*, user: User) -> None:
    user.delete()


def user_invite(*, user: User, base_url: str | None = None) -> User:
    """Send the user an invitation email (Django's email backend, in the user's language) with a link to set a
    password (accounts/invitations.py: one use, SCFM_INVITATION_DAYS days; a new invitation voids older links).

    `base_url` is where the dashboard is reached (scheme and host); SCFM_PUBLIC_URL when None."""
    from .invitations import invitation_url

    user.invitation_sent_at = timezone.now().replace(microsecond=0)
    user.save(update_fields=["invitation_sent_at", "updated_at"])
    with translation.override(user.locale or "en"):
        send_mail(
            subject=gettext("You have been invited to SCFM"),
            message=gettext(
                "Hello,\n\nYou have been invited to join an SCFM account as %(email)s.\n"
                "Choose your password here (the link works once, for %(days)s days):\n\n%(url)s\n"
            )
            % {
                "email": user.email,
                "days": django_settings.SCFM_INVITATION_DAYS,
                "url": invitation_url(user, base_url),
            },
            from_email=None,
            recipient_list=[user.email],
        )
    return user


@transaction.atomic
def user_invite_new(*, account: Account, email: str, locale: str | None = None, base_url: str | None = None) -> User:
    """Create a user without a password and send the invitation (the dashboard's "invite"). Raises DomainError
    `{"email": ["has already been taken"]}` when a user has this email (any account)."""
    user = user_create(account=account, email=email, password=None, locale=locale)
    transaction.on_commit(lambda: user_invite(user=user, base_url=base_url))
    return user


def user_password_set(*, user: User, password: str) -> User:
    """Set a user's password (an accepted invitation, a password change); the password was validated by the form
    (AUTH_PASSWORD_VALIDATORS). Old invitation and reset links stop working."""
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    return user
