"""Invitation links: a user invited by email sets a password from a link that works once and expires.

The link is `<public URL>/dashboard/invitations/<token>`; the token is `<user id, base64>.<Django token>` made by
`InvitationTokenGenerator`, Django's password-reset token pattern (an HMAC of the user's id, password hash, last login
and invitation time under SECRET_KEY) with a salt of its own and its own lifetime, SCFM_INVITATION_DAYS (7 by
default). Setting the password changes the hash, so a used link stops working; sending a new invitation changes
`invitation_sent_at`, so older links stop working too.
"""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from .models import User

INVITATION_PATH = "/dashboard/invitations/"


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Django's password-reset tokens, salted apart (a reset token is no invitation) and valid for
    `settings.SCFM_INVITATION_DAYS` days instead of PASSWORD_RESET_TIMEOUT seconds."""

    key_salt = "scfm.accounts.invitations.InvitationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        sent = "" if user.invitation_sent_at is None else user.invitation_sent_at.replace(microsecond=0).isoformat()
        return f"{super()._make_hash_value(user, timestamp)}{sent}"

    def check_token(self, user, token):
        if not (user and token):
            return False
        try:
            ts = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        valid = any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )
        return valid and self._num_seconds(self._now()) - ts <= settings.SCFM_INVITATION_DAYS * 24 * 3600


invitation_tokens = InvitationTokenGenerator()


def invitation_token(user: User) -> str:
    """The token of the user's invitation link (valid until they set a password, or are invited again)."""
    return f"{urlsafe_base64_encode(force_bytes(user.pk))}.{invitation_tokens.make_token(user)}"


def invitation_url(user: User, base_url: str | None = None) -> str:
    """The full link: `base_url` (e.g. the request's scheme and host), else SCFM_PUBLIC_URL, then the path."""
    return f"{(base_url or settings.SCFM_PUBLIC_URL).rstrip('/')}{INVITATION_PATH}{invitation_token(user)}"


def invited_user(token: str) -> User | None:
    """The user a token invites, or None when it is malformed, expired, used or superseded."""
    uid, _, user_token = (token or "").partition(".")
    try:
        pk = int(urlsafe_base64_decode(uid).decode())
    except (ValueError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk).select_related("account").first()
    return user if user is not None and invitation_tokens.check_token(user, user_token) else None
