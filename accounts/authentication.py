"""Access-token authentication: Bearer header, HTTP Basic with the token as user name, or ?access_token=.

The API's DEFAULT_AUTHENTICATION_CLASSES (scfm/settings.py) name AccessTokenAuthentication; `request.user` is then a
Principal (the account and the token's permissions), which scfm.api.permissions checks.
"""

import base64
import binascii
import hmac
from dataclasses import dataclass, field

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from scfm.limits import storable_text

from .models import AccessToken, Account, Permission
from .services import super_admin_account_ensure


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account the token belongs to and what the token may do."""

    account: Account
    permissions: frozenset[str]
    token: AccessToken | None = None
    is_authenticated: bool = field(default=True)

    @property
    def is_super_admin(self) -> bool:
        return self.account.is_super_admin

    @property
    def pk(self):  # lets DRF's throttling and logging identify the caller
        return self.account.pk


def _basic_credentials(header: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(header.split(" ", 1)[1].strip()).decode("utf-8")
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return None
    username, _, password = decoded.partition(":")
    return username, password


class AccessTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme = header.split(" ", 1)[0].lower() if header else ""
        token_value = None
        if scheme == "bearer":
            token_value = header.split(" ", 1)[1].strip() if " " in header else ""
        elif scheme == "basic":
            credentials = _basic_credentials(header)
            if credentials is None:
                raise AuthenticationFailed("Malformed HTTP Basic credentials.")
            principal = self._single_tenant_principal(*credentials)
            if principal:
                return principal, None
            token_value = credentials[0]
        elif request.query_params.get("access_token"):
            token_value = request.query_params["access_token"]
        elif header:
            raise AuthenticationFailed("Unsupported authorization scheme.")
        if token_value is None:
            return None
        if not storable_text(token_value):  # `?access_token=a%00b`: no token can hold it (the database can't)
            raise AuthenticationFailed("Invalid access token.")
        token = AccessToken.objects.select_related("account").filter(token=token_value).first()
        if token is None:
            raise AuthenticationFailed("Invalid access token.")
        return Principal(account=token.account, permissions=frozenset(token.permissions), token=token), token

    def _single_tenant_principal(self, username: str, password: str) -> Principal | None:
        expected_user = settings.HTTP_BASIC_AUTH_USER
        # compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError, so a 500)
        if not expected_user or not hmac.compare_digest(username.encode(), expected_user.encode()):
            return None
        expected_password = settings.HTTP_BASIC_AUTH_PASSWORD
        if expected_password and not hmac.compare_digest(password.encode(), expected_password.encode()):
            raise AuthenticationFailed("Invalid credentials.")
        return Principal(account=super_admin_account_ensure(), permissions=frozenset(Permission.values))

    def authenticate_header(self, request):
        return 'Bearer realm="SCFM"'


class AccessTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Tells drf-spectacular how callers authenticate, so /api/schema and /api/docs declare it."""

    target_class = AccessTokenAuthentication
    name = "accessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token: `Authorization: Bearer <token>`, HTTP Basic with the token as user name "
            "and an empty password, or `?access_token=<token>`.",
        }
