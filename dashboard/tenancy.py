"""Which account a dashboard request works in.

Every dashboard view scopes its reads and writes by `current_account(request)`, as the API scopes by the token's
account: another account's ids are 404. A super-admin may switch the account being viewed (dash-admin extends this).
"""

from accounts.models import Account


def current_account(request) -> Account:
    """The account the signed-in user is working in (request.user must be authenticated)."""
    return request.user.account
