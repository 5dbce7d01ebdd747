"""The time zone dashboard pages show times in: the account's `time_zone` setting (an IANA name such as
Asia/Phnom_Penh; default UTC). DashboardTimezoneMiddleware activates it for each signed-in request."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from accounts.settings import AccountSettings

UTC_ZONE = ZoneInfo("UTC")


def account_zone(account) -> ZoneInfo:
    """The account's time zone; UTC when it has none or an unknown name."""
    name = getattr(AccountSettings.from_account(account), "time_zone", None) or (account.settings or {}).get(
        "time_zone"
    )
    if not name or not isinstance(name, str):
        return UTC_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_ZONE
