"""URL helpers: every resource gets the same collection and member routes, nested lists are explicit."""

from django.urls import path

COLLECTION = {"get": "list", "post": "create"}
MEMBER = {"get": "retrieve", "patch": "partial_update", "put": "update", "delete": "destroy"}


def resource(prefix: str, viewset, *, collection=None, member=None, name: str | None = None) -> list:
    name = name or prefix.replace("/", "-")
    return [
        path(prefix, viewset.as_view(collection or COLLECTION), name=f"{name}-list"),
        path(f"{prefix}/<int:pk>", viewset.as_view(member or MEMBER), name=f"{name}-detail"),
    ]


def nested(route: str, viewset, *, actions=None, name: str) -> list:
    return [path(route, viewset.as_view(actions or {"get": "list"}), name=name)]


def event(route: str, viewset, *, name: str) -> list:
    return [path(route, viewset.as_view({"post": "fire_event"}), name=name)]


def schema_as(view, viewset, actions: dict[str, str]):
    """Has the OpenAPI schema document the plain function `view` as `viewset`'s `actions` (the attributes DRF's
    as_view sets, which drf-spectacular reads), for a path a function view shares between a viewset action and
    something else (`/api/remote_phone_call_events`: the index, and the provider webhook on POST). Returns `view`."""
    view.cls, view.initkwargs, view.actions = viewset, {}, actions
    return view
