"""Somleng: the Twilio-compatible open-source platform, through the same library pointed at its API host."""

from __future__ import annotations

from django.conf import settings

from .twilio import TwilioProvider

DEFAULT_SOMLENG_API_BASE_URL = "https://api.somleng.org"


def somleng_api_base_url(account) -> str:
    """The account's base URL or host, else SOMLENG_CLIENT_REST_API_BASE_URL / _HOST, else api.somleng.org."""
    if account.somleng_api_base_url:
        return account.somleng_api_base_url
    if account.somleng_api_host:
        return f"https://{account.somleng_api_host}"
    if settings.SOMLENG_CLIENT_REST_API_BASE_URL:
        return settings.SOMLENG_CLIENT_REST_API_BASE_URL
    if settings.SOMLENG_CLIENT_REST_API_HOST:
        return f"https://{settings.SOMLENG_CLIENT_REST_API_HOST}"
    return DEFAULT_SOMLENG_API_BASE_URL


class SomlengProvider(TwilioProvider):
    """Calls through a Somleng installation (UUID SIDs, 422 errors with string codes: handled by the base)."""

    name = "somleng"

    @classmethod
    def for_account(cls, account) -> SomlengProvider:
        return cls(
            account_sid=account.somleng_account_sid or settings.SOMLENG_ACCOUNT_SID,
            auth_token=account.somleng_auth_token or settings.SOMLENG_AUTH_TOKEN,
            api_base_url=somleng_api_base_url(account),
        )
