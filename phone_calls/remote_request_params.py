"""remote_request_params: the extra Twilio calls.create parameters a phone call (or a PhoneCallCreate batch operation)
asks for, by their lowercase underscored names (`status_callback`, `from`); "to" is always the call's msisdn."""

import inspect
import json

from twilio.rest.api.v2010.account.call import CallList

# Twilio calls.create parameter names, lowercase and underscored ("from", not "from_").
REMOTE_REQUEST_PARAM_NAMES = frozenset(
    name.rstrip("_") for name in inspect.signature(CallList.create).parameters if name != "self"
)


def remote_request_params_errors(value) -> list[str]:
    """What is wrong with a remote_request_params value, as 422 messages; [] when it can be used. It must be JSON, a
    hash, and name only Twilio calls.create parameters (REMOTE_REQUEST_PARAM_NAMES)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return ["Value must be valid JSON."]
    if not isinstance(value, dict):
        return ["must be a hash"]
    unknown = sorted(str(key) for key in value if str(key) not in REMOTE_REQUEST_PARAM_NAMES)
    if unknown:
        return [f"contains unknown Twilio call parameters: {', '.join(unknown)}"]
    return []
