import secrets

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower

from scfm.models import TimestampedModel

from .settings import KNOWN_KEYS, AccountSettings, initial_settings

DEFAULT_CALL_FLOW_LOGIC = "CallFlowLogic::HelloWorld"


def default_account_settings() -> dict:
    """The settings hash of a new account (accounts/settings.py: initial_settings)."""
    return initial_settings()


class Permission(models.TextChoices):
    """What an access token may do; each resource has a read and a write permission."""

    ACCESS_TOKENS_READ = "access_tokens_read"
    ACCESS_TOKENS_WRITE = "access_tokens_write"
    ACCOUNTS_READ = "accounts_read"
    ACCOUNTS_WRITE = "accounts_write"
    BATCH_OPERATIONS_READ = "batch_operations_read"
    BATCH_OPERATIONS_WRITE = "batch_operations_write"
    CALLOUT_PARTICIPATIONS_READ = "callout_participations_read"
    CALLOUT_PARTICIPATIONS_WRITE = "callout_participations_write"
    CALLOUTS_READ = "callouts_read"
    CALLOUTS_WRITE = "callouts_write"
    CONTACTS_READ = "contacts_read"
    CONTACTS_WRITE = "contacts_write"
    PHONE_CALLS_READ = "phone_calls_read"
    PHONE_CALLS_WRITE = "phone_calls_write"
    REMOTE_PHONE_CALL_EVENTS_READ = "remote_phone_call_events_read"
    REMOTE_PHONE_CALL_EVENTS_WRITE = "remote_phone_call_events_write"
    USERS_READ = "users_read"
    USERS_WRITE = "users_write"
    RECORDINGS_READ = "recordings_read"


class PlatformProvider(models.TextChoices):
    TWILIO = "twilio"
    SOMLENG = "somleng"
    SIMULATOR = "simulator"


class Account(TimestampedModel):
    """An organisation using SCFM: it owns contacts, callouts and calls, and holds its telephony credentials.

    `settings` is a JSON hash of dialling settings (from_phone_number, phone_call_queue_limit,
    max_calls_per_second, retry settings...) and free-form keys (default batch-operation parameters); read it through
    `AccountSettings.from_account` (accounts/settings.py: every setting's default, range and unit).

    Dialling pauses while the provider refuses the account itself (bad credentials, suspended, out of funds,
    unreachable): `dialling_paused_at` / `dialling_paused_reason` say since when and why, `dialling_probe_at` when
    the dispatcher next tries one call to see whether it may resume (phone_calls/dialling_pauses.py owns them).
    """

    metadata = models.JSONField(default=dict)
    settings = models.JSONField(default=default_account_settings)
    twilio_account_sid = models.CharField(max_length=255, null=True, blank=True)
    somleng_account_sid = models.CharField(max_length=255, null=True, blank=True)
    twilio_auth_token = models.CharField(max_length=255, null=True, blank=True)
    somleng_auth_token = models.CharField(max_length=255, null=True, blank=True)
    permissions = models.JSONField(default=list)
    call_flow_logic = models.CharField(max_length=255, default=DEFAULT_CALL_FLOW_LOGIC)
    platform_provider_name = models.CharField(max_length=32, choices=PlatformProvider.choices, null=True, blank=True)
    somleng_api_host = models.CharField(max_length=255, null=True, blank=True)
    somleng_api_base_url = models.CharField(max_length=255, null=True, blank=True)
    dialling_paused_at = models.DateTimeField(null=True, blank=True)
    dialling_paused_reason = models.TextField(null=True, blank=True)
    dialling_probe_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # webhook signature checks look accounts up by SID, case-insensitively
            models.UniqueConstraint(Lower("twilio_account_sid"), name="accounts_unique_twilio_account_sid"),
            models.UniqueConstraint(Lower("somleng_account_sid"), name="accounts_unique_somleng_account_sid"),
        ]

    # written only by phone_calls/dialling_pauses.py (conditional updates); a save of the whole row leaves them alone
    DIALLING_PAUSE_FIELDS = ("dialling_paused_at", "dialling_paused_reason", "dialling_probe_at")

    @property
    def is_super_admin(self) -> bool:
        return "super_admin" in (self.permissions or [])

    def setting(self, key: str, default=None):
        """One setting: a dialling setting as AccountSettings parses it (its default when missing or junk), any
        other key as stored (`default` when missing, null or ""). To read several, parse once with
        `AccountSettings.from_account(account)`."""
        if key in KNOWN_KEYS:
            return getattr(AccountSettings.from_account(self), key)
        value = (self.settings or {}).get(key)
        return default if value in (None, "") else value


def generate_token() -> str:
    return secrets.token_urlsafe(32)


class AccessToken(TimestampedModel):
    """A bearer token for the REST API, owned by one account, with a list of permissions."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="access_tokens")
    created_by = models.ForeignKey(
        Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="created_access_tokens"
    )
    token = models.CharField(max_length=128, unique=True, default=generate_token)
    permissions = models.JSONField(default=list)
    metadata = models.JSONField(default=dict)


class UserManager(BaseUserManager):
    def create_user(self, email, password=None, **fields):
        """A user of `fields["account"]`; without a password the user can sign in only after setting one (an
        invitation or a password reset)."""
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        """A user of the super-admin account (created on first use): what `manage.py createsuperuser --email E`
        makes (DJANGO_SUPERUSER_PASSWORD with --noinput). Such a user may view any account in the dashboard."""
        from .services import super_admin_account_ensure  # services import this module

        fields.setdefault("account", super_admin_account_ensure())
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, TimestampedModel):
    """A person who works in an account (dashboard login); created and invited through the API."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="users")
    email = models.EmailField(unique=True)
    metadata = models.JSONField(default=dict)
    locale = models.CharField(max_length=8, default="en", choices=[("en", "English"), ("km", "Khmer")])
    invitation_sent_at = models.DateTimeField(null=True, blank=True)
    # the user's own number, E.164 (contacts/phone_numbers.py), for "call me first" (callouts/call_me.py)
    phone_number = models.CharField(max_length=32, blank=True, default="")

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    objects = UserManager()
