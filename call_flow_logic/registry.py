"""The call flows SCFM knows by name (`CallFlowLogic::HelloWorld`): built-ins plus REGISTERED_CALL_FLOW_LOGIC."""

from django.conf import settings

BUILT_IN = ("CallFlowLogic::HelloWorld", "CallFlowLogic::PlayMessage", "CallFlowLogic::EWSRegistration")


def registered_names() -> list[str]:
    extra = [entry.split("=", 1)[0].strip() for entry in settings.REGISTERED_CALL_FLOW_LOGIC]
    return [*BUILT_IN, *[name for name in extra if name not in BUILT_IN]]


def is_registered(name: str | None) -> bool:
    return bool(name) and name in registered_names()
