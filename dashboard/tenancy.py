"""Which account a dashboard request works in, and who acts in it.

Every dashboard view scopes its reads and writes by `current_account(request)`, as the API scopes by the token's
account: another account's ids are 404. A user of the super-admin account may switch the account being viewed
(`/dashboard/switch_account`, stored in the session under SESSION_KEY); everyone else always works in their own.
"""

from dataclasses import dataclass

from accounts.models import Account, Permission

SESSION_KEY = "dashboard_account_id"


def current_account(request) -> Account:
    """The account the signed-in user is working in (request.user must be authenticated): the user's own, or for a
    super-admin user the account switched to (while it exists). Read once per request."""
    cached = getattr(request, "_dashboard_account", None)
    if cached is not None:
        return cached
    account = request.user.account
    switched = request.session.get(SESSION_KEY)
    if account.is_super_admin and switched and switched != account.pk:
        account = Account.objects.filter(pk=switched).first() or account
    request._dashboard_account = account
    return account


def switch_account(request, account: Account | None) -> None:
    """Make `account` the one a super-admin user views (None: back to their own). Callers check is_super_admin."""
    if account is None or account.pk == request.user.account_id:
        request.session.pop(SESSION_KEY, None)
    else:
        request.session[SESSION_KEY] = account.pk
    request.__dict__.pop("_dashboard_account", None)


@dataclass(frozen=True)
class DashboardPrincipal:
    """Who acts, for the services that take a `principal` (access tokens: accounts/services.py). A dashboard user
    may do everything their account can (roles come later), so they hold every API permission; a token they create
    can hold no more (the no-escalation rule). `account` is the user's own account (a token's `created_by`)."""

    account: Account
    permissions: frozenset[str]

    @property
    def is_super_admin(self) -> bool:
        return self.account.is_super_admin


def principal(request) -> DashboardPrincipal:
    """The signed-in user as a principal."""
    return DashboardPrincipal(account=request.user.account, permissions=frozenset(Permission.values))
