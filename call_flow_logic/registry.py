"""The call flows SCFM knows by name (`CallFlowLogic::HelloWorld`): built-ins plus REGISTERED_CALL_FLOW_LOGIC.

REGISTERED_CALL_FLOW_LOGIC is comma-separated; each entry is one of
- `CallFlowLogic::Name=python.dotted.Path` (a name bound to a class),
- `python.dotted.Path` (a class; its `name` attribute is the registered name),
- `CallFlowLogic::Name` (a name only, as getting-started.md shows: it validates, and runs the account's default).
"""

import logging
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

BUILT_IN = {
    "CallFlowLogic::HelloWorld": "call_flow_logic.hello_world.HelloWorld",
    "CallFlowLogic::PlayMessage": "call_flow_logic.play_message.PlayMessage",
    "CallFlowLogic::EWSRegistration": "call_flow_logic.ews_registration.EWSRegistration",
}
FALLBACK = "CallFlowLogic::HelloWorld"


def _parse_entry(entry: str) -> tuple[str, str | None] | None:
    name, sep, path = (part.strip() for part in entry.partition("="))
    if sep:
        return (name, path or None) if name else None
    if "::" in name or "." not in name:
        return name, None
    try:
        flow_class = import_string(name)
    except ImportError:
        logger.warning("REGISTERED_CALL_FLOW_LOGIC: cannot import %s", name)
        return None
    flow_name = getattr(flow_class, "name", None)
    if not flow_name:
        logger.warning("REGISTERED_CALL_FLOW_LOGIC: %s has no `name`", name)
        return None
    return flow_name, name


@lru_cache(maxsize=8)
def _registry(entries: tuple[str, ...]) -> dict[str, str | None]:
    registry: dict[str, str | None] = dict(BUILT_IN)
    for entry in entries:
        parsed = _parse_entry(entry)
        if parsed and parsed[0] not in BUILT_IN:
            registry[parsed[0]] = parsed[1]
    return registry


def registry() -> dict[str, str | None]:
    """Registered name -> dotted path of its class (None for a name registered without a class)."""
    return _registry(tuple(settings.REGISTERED_CALL_FLOW_LOGIC))


def registered_names() -> list[str]:
    return list(registry())


def is_registered(name: str | None) -> bool:
    return bool(name) and name in registry()


def flow_class_for(name: str | None):
    """The class that runs `name`; None when it is unknown or registered without a class."""
    path = registry().get(name or "")
    return _import_flow(path) if path else None


@lru_cache(maxsize=64)
def _import_flow(path: str):
    try:
        return import_string(path)
    except ImportError:
        logger.warning("call flow %s cannot be imported", path)
        return None
