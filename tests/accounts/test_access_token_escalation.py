"""No token grants a permission it does not hold itself: super admins included (issue 11, section 5).

The family covered: who calls (an ordinary account, the super-admin account on its own tokens, the super-admin account
on another account's tokens) x what the calling token holds (nothing, only access_tokens_write, access_tokens_write and
one other permission, every permission) x what it asks for (nothing, its own permissions, one more, a permission only
an administrator would hold, every permission) x how (creating a token, replacing a token's permissions, replacing
the calling token's own permissions). The rule: without access_tokens_write a 403; with it, the request succeeds
exactly when every asked-for permission is held by the calling token, else a 422 naming the ones it lacks and nothing
is written.
"""

import pytest

from accounts.models import AccessToken, Permission
from tests.factories import AccessTokenFactory, AccountFactory

EVERY = sorted(Permission.values)
WRITE = "access_tokens_write"

CALLER_HOLDS = {
    "nothing": [],
    "only access_tokens_write": [WRITE],
    "access_tokens_write + contacts_read": [WRITE, "contacts_read"],
    "every permission": EVERY,
}
ASKED = {
    "nothing": [],
    "access_tokens_write": [WRITE],
    "contacts_read": ["contacts_read"],
    "access_tokens_write + contacts_read": [WRITE, "contacts_read"],
    "accounts_write": ["accounts_write"],
    "contacts_read + contacts_write": ["contacts_read", "contacts_write"],
    "every permission": EVERY,
}
# (the caller's account is a super admin, the token is created in / belongs to another account)
WHO = {
    "ordinary account": (False, False),
    "super admin, own account": (True, False),
    "super admin, another account": (True, True),
}


def expected(holds: list[str], asked: list[str]) -> tuple[int, list[str]]:
    """The status a request should get, and the permissions a 422 must name."""
    if WRITE not in holds:
        return 403, []
    missing = sorted(set(asked) - set(holds))
    return (422, missing) if missing else (0, [])


@pytest.fixture
def arrange(make_client):
    def build(who: str, holds: list[str]):
        super_admin, other = WHO[who]
        caller = make_client(AccountFactory(permissions=["super_admin"] if super_admin else []), permissions=holds)
        target = AccountFactory() if other else caller.account
        return caller, target

    return build


def assert_refused(response, missing: list[str]) -> None:
    assert response.status_code == 422
    assert response.json() == {
        "errors": {"permissions": [f"cannot grant permissions the caller does not hold: {', '.join(missing)}"]}
    }


@pytest.mark.parametrize("asked", ASKED)
@pytest.mark.parametrize("holds", CALLER_HOLDS)
@pytest.mark.parametrize("who", WHO)
def test_create_token_grants_only_what_the_caller_holds(arrange, who, holds, asked):
    caller, target = arrange(who, CALLER_HOLDS[holds])
    body = {"permissions": ASKED[asked]}
    if target != caller.account:
        body["account_id"] = target.pk
    before = AccessToken.objects.count()

    response = caller.post("/api/access_tokens", body, format="json")

    status, missing = expected(CALLER_HOLDS[holds], ASKED[asked])
    if status == 403:
        assert response.status_code == 403
        assert AccessToken.objects.count() == before
    elif status == 422:
        assert_refused(response, missing)
        assert AccessToken.objects.count() == before
    else:
        assert response.status_code == 201
        token = AccessToken.objects.get(pk=response.json()["id"])
        assert (token.account, token.permissions) == (target, sorted(set(ASKED[asked])))


@pytest.mark.parametrize("asked", ASKED)
@pytest.mark.parametrize("holds", CALLER_HOLDS)
@pytest.mark.parametrize("who", WHO)
def test_update_token_grants_only_what_the_caller_holds(arrange, who, holds, asked):
    caller, target = arrange(who, CALLER_HOLDS[holds])
    token = AccessTokenFactory(account=target, permissions=[])
    scope = f"?account_id={target.pk}" if target != caller.account else ""

    response = caller.patch(f"/api/access_tokens/{token.pk}{scope}", {"permissions": ASKED[asked]}, format="json")

    status, missing = expected(CALLER_HOLDS[holds], ASKED[asked])
    token.refresh_from_db()
    if status == 403:
        assert response.status_code == 403
        assert token.permissions == []
    elif status == 422:
        assert_refused(response, missing)
        assert token.permissions == []
    else:
        assert response.status_code == 204
        assert token.permissions == sorted(set(ASKED[asked]))


@pytest.mark.parametrize("asked", ASKED)
@pytest.mark.parametrize("holds", CALLER_HOLDS)
@pytest.mark.parametrize("who", ["ordinary account", "super admin, own account"])
def test_a_token_cannot_raise_its_own_permissions(arrange, who, holds, asked):
    caller, _target = arrange(who, CALLER_HOLDS[holds])

    response = caller.patch(f"/api/access_tokens/{caller.token.pk}", {"permissions": ASKED[asked]}, format="json")

    status, missing = expected(CALLER_HOLDS[holds], ASKED[asked])
    caller.token.refresh_from_db()
    if status == 403:
        assert response.status_code == 403
    elif status == 422:
        assert_refused(response, missing)
        assert caller.token.permissions == CALLER_HOLDS[holds]
    else:
        assert response.status_code == 204
        assert caller.token.permissions == sorted(set(ASKED[asked]))


def test_super_admin_token_with_only_access_tokens_write_cannot_mint_an_all_powerful_token(make_client):
    """The reported escalation, spelled out: the 422 names every permission the caller could not grant."""
    caller = make_client(AccountFactory(permissions=["super_admin"]), permissions=[WRITE])
    other = AccountFactory()

    response = caller.post("/api/access_tokens", {"account_id": other.pk, "permissions": EVERY}, format="json")

    assert_refused(response, [name for name in EVERY if name != WRITE])
    assert "accounts_write" in response.json()["errors"]["permissions"][0]
    assert not AccessToken.objects.filter(account=other).exists()


def test_metadata_only_update_of_a_more_powerful_token_is_allowed(make_client):
    """Changing a token's metadata grants nothing, so it needs no permission beyond access_tokens_write."""
    caller = make_client(AccountFactory(), permissions=[WRITE])
    token = AccessTokenFactory(account=caller.account, permissions=EVERY, metadata={})

    response = caller.patch(f"/api/access_tokens/{token.pk}", {"metadata": {"name": "ops"}}, format="json")

    assert response.status_code == 204
    token.refresh_from_db()
    assert (token.permissions, token.metadata) == (EVERY, {"name": "ops"})
