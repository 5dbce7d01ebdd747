"""The public summary and description of each OpenAPI operation, written from the ResourceViewSet conventions
(scfm.api.viewsets) and the contract (rest-api-current.txt), so /api/docs never shows a class's docstring (a note
for developers) as an operation's description.

Names come from the view (`location_prefix`: `callout_participations` -> "callout participation") and the path
(`/api/callouts/{callout_id}/contacts`: nested under a callout). A view may add public text of its own with
`schema_description`; an action with `extend_schema(summary=..., description=...)` overrides both.
"""

import functools
import re

from rest_framework import serializers

from scfm.metadata import MERGE_MODES

CONTRACT = "rest-api-current.txt"
SUMMARIES = {
    "list": "List {plural}{of_parent}",
    "retrieve": "Show {one}",
    "create": "Create {one}{in_parent}",
    "update": "Update {one} (PUT, as PATCH)",
    "partial_update": "Update {one}",
    "destroy": "Delete {one}",
    "fire_event": "Fire an event on {one}",
}
DESCRIPTIONS = {
    "list": "The {plural} of the caller's account{of_parent_in_path}, a page at a time: `page` and `per_page` "
    "(default 25, at most 1000) choose the page, and the `Per-Page`, `Total` and `Link` headers describe it. "
    "`q[<name>]` filters (JSON columns with operators: `q[metadata][age.gt]=30`; an unknown name is a 422); `sort` "
    "orders by columns (`-` for descending; default `-id`).",
    "retrieve": "{One} of the caller's account, by id; the `Location` header names it.",
    "create": "Creates {one}{in_parent_in_path} from the body (JSON, a form with bracket keys, or multipart); "
    "answers 201 with it and its `Location`. A body field the resource does not take is a 422 naming it.",
    "update": "Changes the fields the body gives (PUT and PATCH alike: fields left out keep their values){metadata}; "
    "answers 204 with the `Location`. A body field the resource does not take, or does not let change, is a 422.",
    "destroy": "Deletes {one}; answers 204. One that other records still depend on is a 422.",
    "fire_event": "Moves {one} through its lifecycle: `event` is one of {events}. Answers 201 with the updated "
    "resource and its `Location`; an event its current status does not allow is a 422.",
}
METADATA_NOTE = (
    "; `metadata` is merged into the stored metadata (`metadata_merge_mode`: " + ", ".join(MERGE_MODES) + ")"
)
PARAMETER = re.compile(r"\{(\w+)\}")


def _words(name: str) -> str:
    return name.replace("_", " ")


def _singular(plural: str) -> str:
    return plural[:-1] if plural.endswith("s") else plural


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeio' else 'a'} {noun}"  # ("a user")


def _parent(path: str) -> str | None:
    """The parent a nested collection hangs from: `/api/callouts/{callout_id}/contacts` -> "callout"."""
    parts = path.strip("/").split("/")
    for index, part in enumerate(parts[2:-1], start=2):
        if PARAMETER.fullmatch(part) and part != "{id}":
            return _singular(_words(parts[index - 1]))
    return None


def _names(view, path: str) -> dict[str, str]:
    plural = _words(getattr(view, "location_prefix", "") or path.strip("/").split("/")[1])
    one = "the caller's account" if path.rstrip("/") == "/api/account" else _a(_singular(plural))
    parent = _parent(path)
    events = ", ".join(f"`{name}`" for name in getattr(view, "event_names", ()))
    update_serializer = getattr(view, "update_serializer_class", None) or getattr(view, "write_serializer_class", None)
    has_metadata = update_serializer is not None and "metadata" in update_serializer().fields
    return {
        "plural": plural,
        "one": one,
        "One": one[:1].upper() + one[1:],
        "of_parent": f" of {_a(parent)}" if parent else "",
        "in_parent": f" in {_a(parent)}" if parent else "",
        "of_parent_in_path": f" belonging to the {parent} the path names" if parent else "",
        "in_parent_in_path": f" in the {parent} the path names" if parent else "",
        "events": events or "the resource's events",
        "metadata": METADATA_NOTE if has_metadata else "",
    }


def summary(view, action: str | None, path: str) -> str:
    """A short title: "List contacts of a callout", "Create a callout"; the path for an undecorated action."""
    template = SUMMARIES.get(action or "")
    if template is None:
        return path
    return template.format(**_names(view, path))


def description(view, action: str | None, path: str) -> str:
    """What the operation does, for API users, and where the contract says so."""
    template = DESCRIPTIONS.get(action or "")
    parts = [template.format(**_names(view, path))] if template else []
    extra = getattr(view, "schema_description", "")
    if extra:
        parts.append(extra)
    parts.append(f"Contract: {CONTRACT}.")
    return "\n\n".join(parts)


def event_serializer(view):
    """The body of `POST .../<entity>_events`: `event`, one of the view's `event_names` (an enum in the schema)."""
    return _event_serializer(view.location_prefix, tuple(getattr(view, "event_names", ())))


@functools.cache  # one class per resource, so the schema has one component per resource
def _event_serializer(location_prefix: str, event_names: tuple[str, ...]):
    name = "".join(word.capitalize() for word in _singular(location_prefix).split("_")) + "Event"
    return type(
        f"{name}Serializer",
        (serializers.Serializer,),
        {
            "event": serializers.ChoiceField(choices=list(event_names)),
            "__doc__": f"The event to fire on {_a(_singular(_words(location_prefix)))}.",
        },
    )
