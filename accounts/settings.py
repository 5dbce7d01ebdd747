"""An account's dialling settings, in one place: every setting SCFM reads, with its default, range and unit.

`Account.settings` is a JSON hash. The keys of `AccountSettings` are the dialling settings SCFM reads; any other key
(e.g. `batch_operation_<type>_parameters`) is free-form and kept as given. The known keys are checked on write by
`validate_settings` (the API's 422) and parsed once on read by `AccountSettings.from_account`, which never fails: the
hash can be written without the API (the admin, SQL, old rows), so a stored value that does not parse falls back to
the default, and numbers are clamped as each field says.

    from accounts.settings import AccountSettings
    AccountSettings.from_account(account).max_calls_per_second   # 10.0 unless the account says otherwise
"""

from __future__ import annotations

import copy
import functools
import math
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, cast

from scfm.errors import DomainError

# The phone-call statuses a retry may follow (PhoneCallStatus values of the attempts that ended unanswered).
RETRYABLE_STATUSES = frozenset({"not_answered", "busy", "failed", "canceled", "expired", "errored"})
# The Twilio CallStatus values the simulator can end a call with.
SIMULATOR_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})

DAY = 24 * 3600


@dataclass(frozen=True)
class Number:
    """How a numeric setting is checked and read.

    `kind` is the type a value is converted with (`int("2.5")` is not a number, `int(2.5)` is 2); the API accepts
    `low <= value <= high` (inclusive; booleans never). A read clamps a stored value to `low` and, when `read_high`
    is set, to `read_high`: a value above `high` stored another way is otherwise honoured (the dialler benchmark
    sets a queue limit of 10**9). `falsy_is_default`: a stored 0 / false reads as the default.
    """

    kind: type[int] | type[float]
    unit: str
    low: int
    high: int
    read_high: int | None = None
    falsy_is_default: bool = False


def _number(default: int | float, **spec: Any) -> Any:
    return field(default=default, metadata={"number": Number(**spec)})


@dataclass(frozen=True)
class AccountSettings:
    """An account's dialling settings, parsed. Fields (settings key = field name):

    - from_phone_number (str, default "1234"): the caller id, Twilio's `From`.
    - phone_call_queue_limit (int calls, default 200; API range 0..1,000,000): calls in flight at once (queued,
      remotely queued, in progress). Read: at least 0.
    - max_calls_per_second (float calls/second, default 10.0; API range 0..10,000): dispatch pacing across all
      workers; 0 turns pacing off. Read: at least 0.
    - max_phone_calls_for_callout_participation (int calls, default 3; range 0..10): attempts per contact and
      callout. Read: clamped to 0..10.
    - retry_statuses (set of phone-call statuses, default not_answered, busy, failed; a list or a comma-separated
      string of RETRYABLE_STATUSES): the outcomes that are retried. Read: a blank or empty value, or one neither a
      list nor a string, is the default.
    - retry_backoff_seconds (int seconds, default 900; range 0..30 days): the wait before a retry. Read: clamped to
      0..30 days; a stored 0 reads as the default (as it always has).
    - simulator_outcomes (Twilio CallStatus -> weight, default completed 0.7, busy 0.1, no-answer 0.1, failed 0.1;
      keys from SIMULATOR_STATUSES, weights >= 0 summing to more than 0): the simulator's mix. Read: weights that
      are not positive numbers are dropped; nothing left (or not a hash) is the default.
    - simulator_delay_seconds (float seconds, default 3.0; range 0..1 day): when the simulator ends a call.
      Read: at least 0.
    - simulator_call_duration (int seconds, default 20; range 0..1 day): how long a simulated answered call lasts.
      Read: at least 0.
    - time_zone (str, an IANA time zone name such as "Asia/Phnom_Penh", default "UTC"): the zone the dashboard
      shows the account's times in. Read: a name zoneinfo does not know is the default.
    - free_form: every other key of the hash, as stored (read-only).

    Any known key that is missing, null, "" or junk (not a number, not finite) reads as its default.
    """

    from_phone_number: str = "1234"
    phone_call_queue_limit: int = _number(200, kind=int, unit="calls", low=0, high=1_000_000)
    max_calls_per_second: float = _number(10.0, kind=float, unit="calls per second", low=0, high=10_000)
    max_phone_calls_for_callout_participation: int = _number(3, kind=int, unit="calls", low=0, high=10, read_high=10)
    retry_statuses: frozenset[str] = frozenset({"not_answered", "busy", "failed"})
    retry_backoff_seconds: int = _number(
        900, kind=int, unit="seconds", low=0, high=30 * DAY, read_high=30 * DAY, falsy_is_default=True
    )
    simulator_outcomes: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({"completed": 0.7, "busy": 0.1, "no-answer": 0.1, "failed": 0.1})
    )
    simulator_delay_seconds: float = _number(3.0, kind=float, unit="seconds", low=0, high=DAY)
    simulator_call_duration: int = _number(20, kind=int, unit="seconds", low=0, high=DAY)
    time_zone: str = "UTC"
    free_form: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_account(cls, account) -> AccountSettings:
        """The parsed settings of `account` (anything with a `settings` hash). Never raises."""
        return cls.from_settings(account.settings)

    @classmethod
    def from_settings(cls, raw: Any) -> AccountSettings:
        """The parsed settings of a stored hash (None or a non-hash reads as all defaults). Never raises."""
        raw = raw if isinstance(raw, dict) else {}
        values: dict[str, Any] = {}
        for f in fields(cls):
            if "number" in f.metadata:
                values[f.name] = _read_number(raw.get(f.name), cast(float, f.default), f.metadata["number"])
        phone_number = raw.get("from_phone_number")
        if phone_number not in (None, ""):
            values["from_phone_number"] = str(phone_number)
        if is_time_zone(raw.get("time_zone")):
            values["time_zone"] = raw["time_zone"]
        statuses = _read_statuses(raw.get("retry_statuses"))
        if statuses is not None:
            values["retry_statuses"] = statuses
        outcomes = _read_outcomes(raw.get("simulator_outcomes"))
        if outcomes:
            values["simulator_outcomes"] = MappingProxyType(outcomes)
        values["free_form"] = MappingProxyType({key: value for key, value in raw.items() if key not in KNOWN_KEYS})
        return cls(**values)

    def free_form_hash(self, key: str | None) -> dict:
        """A copy of the free-form setting `key` when it is a hash, else {} (e.g. a batch operation's defaults;
        a None key is {})."""
        value = self.free_form.get(key) if key is not None else None
        return copy.deepcopy(value) if isinstance(value, dict) else {}


KNOWN_KEYS = frozenset(f.name for f in fields(AccountSettings) if f.name != "free_form")
NUMBERS = {f.name: f.metadata["number"] for f in fields(AccountSettings) if "number" in f.metadata}
DEFAULTS = AccountSettings()
# The keys a new account's hash starts with, and a replaced hash is filled with (what GET /api/account shows).
INITIAL_KEYS = ("from_phone_number", "phone_call_queue_limit", "max_phone_calls_for_callout_participation")


def initial_settings() -> dict:
    """The hash a new account is created with: {"from_phone_number": "1234", "phone_call_queue_limit": 200,
    "max_phone_calls_for_callout_participation": 3}."""
    return {key: getattr(DEFAULTS, key) for key in INITIAL_KEYS}


@functools.cache
def time_zone_names() -> frozenset[str]:
    # the system's zoneinfo folder may hold files that are not zone names (`localtime`: the machine's own zone)
    return frozenset(zoneinfo.available_timezones()) - {"localtime", "posixrules"}


def is_time_zone(value: Any) -> bool:
    """Whether `value` is an IANA time zone name zoneinfo knows ("UTC", "Asia/Phnom_Penh"; not "", not a path)."""
    return isinstance(value, str) and value in time_zone_names()


def _read_number(value: Any, default: int | float, spec: Number) -> int | float:
    if value in (None, "") or (spec.falsy_is_default and not value):
        return default
    try:
        number = spec.kind(value)
    except (TypeError, ValueError, OverflowError):
        return default
    if isinstance(number, float) and not math.isfinite(number):
        return default
    number = max(number, spec.kind(spec.low))
    if spec.read_high is not None:
        number = min(number, spec.kind(spec.read_high))
    return number


def _read_statuses(value: Any) -> frozenset[str] | None:
    """The statuses of a stored retry_statuses, or None for the default."""
    if not value:
        return None
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, list | tuple):
        return None
    return frozenset(str(status) for status in value)


def _read_outcomes(value: Any) -> dict[str, float]:
    """The positive weights of a stored simulator_outcomes ({} for the default)."""
    if not isinstance(value, dict):
        return {}
    mix = {}
    for status, weight in value.items():
        try:
            number = float(weight)
        except (TypeError, ValueError, OverflowError):
            continue
        if number > 0 and math.isfinite(number):
            mix[str(status)] = number
    return mix


def settings_errors(raw: dict) -> list[str]:
    """What is wrong with the known keys of a settings hash, one message each (empty when nothing is)."""
    errors = []
    for key, spec in NUMBERS.items():
        if key not in raw or raw[key] in (None, ""):
            continue
        try:
            value = spec.kind(raw[key])
        except (TypeError, ValueError, OverflowError):
            errors.append(f"{key} must be a number")
            continue
        if isinstance(raw[key], bool) or not spec.low <= value <= spec.high:
            errors.append(f"{key} must be between {spec.low} and {spec.high}")
    statuses = raw.get("retry_statuses")
    if statuses not in (None, ""):
        items = statuses.split(",") if isinstance(statuses, str) else statuses
        if not isinstance(items, list) or not {str(item).strip() for item in items} <= RETRYABLE_STATUSES:
            errors.append(f"retry_statuses must be a list of: {', '.join(sorted(RETRYABLE_STATUSES))}")
    time_zone = raw.get("time_zone")
    if time_zone not in (None, "") and not is_time_zone(time_zone):
        errors.append("time_zone must be a time zone name such as Asia/Phnom_Penh or UTC")
    outcomes = raw.get("simulator_outcomes")
    if outcomes not in (None, ""):
        valid = isinstance(outcomes, dict) and set(outcomes) <= SIMULATOR_STATUSES
        try:
            valid = (
                valid
                and all(float(weight) >= 0 for weight in outcomes.values())
                and sum(float(weight) for weight in outcomes.values()) > 0
            )
        except (TypeError, ValueError, OverflowError):
            valid = False
        if not valid:
            errors.append(f"simulator_outcomes must map {', '.join(sorted(SIMULATOR_STATUSES))} to weights")
    return errors


def validate_settings(raw: dict) -> None:
    """Check a settings hash before it is stored; free-form keys are not checked.

    Raises DomainError({"settings": [message, ...]}) (the API's 422) naming each known key that is not a number, out
    of its range (e.g. "max_phone_calls_for_callout_participation must be between 0 and 10") or not one of its
    values.
    """
    if not isinstance(raw, dict):
        raise DomainError({"settings": ["must be a hash"]})
    errors = settings_errors(raw)
    if errors:
        raise DomainError({"settings": errors})
