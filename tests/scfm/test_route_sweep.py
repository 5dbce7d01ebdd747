"""Every API route, whatever its resource: no credentials is a 401, an unknown id is a 404, never a 500."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {"api/schema", "api/docs", "api/redoc"}
SIGNED_WEBHOOKS = {"api/remote_phone_call_events"}  # POST is the provider's webhook (signature, not a token)
UNKNOWN_ID = "987654321"


def api_routes() -> list[tuple[str, set[str]]]:
    """(path with every <int:...> replaced by an id nobody has, the HTTP methods the route answers)."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    routes = []
    for route, callback in walk(get_resolver().url_patterns):
        if not route.startswith("api/") or route in PUBLIC:
            continue
        actions = getattr(callback, "actions", None) or {"get": "list"}
        routes.append((re.sub(r"<int:[a-z_]+>", UNKNOWN_ID, route), set(actions)))
    return routes


ROUTES = api_routes()
ROUTES_WITH_ID = [(path, methods) for path, methods in ROUTES if UNKNOWN_ID in path]


@pytest.mark.parametrize(("path", "methods"), ROUTES, ids=[path for path, _ in ROUTES])
def test_every_route_needs_credentials(anonymous, db, path, methods):
    for method in methods:
        if method == "post" and path in SIGNED_WEBHOOKS:
            continue
        response = getattr(anonymous, method)(f"/{path}", {}, format="json")
        assert response.status_code == 401, (method, path, response.status_code)
        assert "errors" in response.json()


def test_the_sweep_finds_routes_with_ids_each_answering_some_method():
    assert ROUTES_WITH_ID
    assert all(methods for _, methods in ROUTES)
    assert f"api/callouts/{UNKNOWN_ID}" in [path for path, _ in ROUTES_WITH_ID]


@pytest.mark.parametrize(("path", "methods"), ROUTES_WITH_ID, ids=[path for path, _ in ROUTES_WITH_ID])
def test_unknown_ids_are_not_found(admin, path, methods):
    for method in methods:
        response = getattr(admin, method)(f"/{path}", {}, format="json")
        assert response.status_code == 404, (method, path, response.status_code, response.content[:200])


@pytest.mark.parametrize(("path", "methods"), ROUTES, ids=[path for path, _ in ROUTES])
def test_every_route_refuses_a_token_without_its_permission(make_client, path, methods):
    """A valid token holding no permission: every route and method answers 403 naming the permission it lacks (or,
    for /api/accounts, that it needs a super admin), before looking at ids or bodies (so an unknown id is a 403 too,
    never a hint that it exists)."""
    client = make_client(permissions=[])
    for method in methods:
        if method == "post" and path in SIGNED_WEBHOOKS:
            continue
        response = getattr(client, method)(f"/{path}", {}, format="json")
        assert response.status_code == 403, (method, path, response.status_code, response.content[:200])
        reason = str(response.json()["errors"])
        assert "Missing permission" in reason or "needs a super admin account" in reason, reason
