"""SCFM's own metrics of the dialling engine (scfm/metrics.py renders them; docs/operations.md lists them).

Counted where things happen, each by one small call the engine makes (so a rewrite of a stage only moves the call):

- `call_dialled(result)` (dialling.py, per provider answer): `scfm_calls_dialled_total{outcome}` (providers/base.py
  CreateOutcome: accepted, rejected, retry, unknown, account_fault) and, unless accepted,
  `scfm_provider_errors_total{code}` (the codes of providers/twilio.py's CREATE_ERROR_TABLE, "network" when the
  provider could not be reached or did not answer, "other" for every other code);
- `status_callback_received(call_status)` (remote_events.py, per status callback):
  `scfm_status_callbacks_total{status}` (the provider's CallStatus: queued, initiated, ringing, in-progress,
  answered, busy, failed, no-answer, canceled, completed, or "other");
- `dispatch_lag_observe(seconds)` (dialling.py, as a call is stamped for dialling): `scfm_dispatch_lag_seconds`, a
  histogram of the seconds between the call becoming due (`dispatch_due_at`) and being dialled.

Read at scrape time from the callout counters (callouts/counters.py, never a scan of calls), by `callout_gauges`:
callouts running / paused, their calls in flight and participations still to call, the in-flight limit summed over
the accounts with running callouts, how many of those accounts are at their limit, and how many accounts have
their dialling paused. No label names an account, a callout or a number.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

from .providers.base import CreateOutcome, CreateResult
from .providers.twilio import CREATE_ERROR_TABLE
from .statuses import IN_FLIGHT_STATUSES, REMOTE_STATUS_TO_STATUS

OTHER = "other"
NETWORK = "network"
OUTCOMES = tuple(outcome.value for outcome in CreateOutcome)
ERROR_CODES = (*(str(key) for kind, key, _, _ in CREATE_ERROR_TABLE if kind == "code"), NETWORK, OTHER)
CALLBACK_STATUSES = ("queued", "initiated", *REMOTE_STATUS_TO_STATUS, OTHER)
# seconds: from "dialled at once" to "an hour late"
LAG_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, float("inf"))

CALLS_DIALLED = Counter(
    "scfm_calls_dialled", "Create-call requests answered by the provider, by outcome", labelnames=["outcome"]
)
PROVIDER_ERRORS = Counter(
    "scfm_provider_errors", "Create-call requests the provider did not accept, by error code", labelnames=["code"]
)
STATUS_CALLBACKS = Counter(
    "scfm_status_callbacks", "Provider status callbacks received, by CallStatus", labelnames=["status"]
)
DISPATCH_LAG = Histogram(
    "scfm_dispatch_lag_seconds", "Seconds from a call becoming due to its being dialled", buckets=LAG_BUCKETS
)

# every label value exists from the start (at 0), so rates and "no dial" alerts have a series to read
for _outcome in OUTCOMES:
    CALLS_DIALLED.labels(_outcome)
for _code in ERROR_CODES:
    PROVIDER_ERRORS.labels(_code)
for _status in CALLBACK_STATUSES:
    STATUS_CALLBACKS.labels(_status)


def _bounded(value: str | None, known: tuple[str, ...]) -> str:
    value = str(value or "").strip()
    return value if value in known else OTHER


def call_dialled(result: CreateResult, n: int = 1) -> None:
    """`n` create-call requests came back with `result`: count the outcome, and the error code unless accepted."""
    CALLS_DIALLED.labels(_bounded(result.outcome, OUTCOMES)).inc(n)
    if result.outcome != CreateOutcome.ACCEPTED:
        PROVIDER_ERRORS.labels(_bounded(result.error_code, ERROR_CODES)).inc(n)


def status_callback_received(call_status: str | None) -> None:
    """A status callback with this CallStatus arrived."""
    STATUS_CALLBACKS.labels(_bounded(call_status, CALLBACK_STATUSES)).inc()


def dispatch_due_at(*, created_at: datetime, queue_after: datetime | None, callout_since: datetime | None) -> datetime:
    """When a call became due: the latest of its creation, the end of its retry back-off (queue_after) and the
    moment its callout was last changed (`callout_since`, the callout's updated_at: a start or resume makes its
    calls due; an edit of a running callout makes the lag of calls already waiting look shorter)."""
    return max(moment for moment in (created_at, queue_after, callout_since) if moment is not None)


def dispatch_lag_observe(seconds: float) -> None:
    """A call was dialled `seconds` after it became due (negative clock skew counts as 0)."""
    DISPATCH_LAG.observe(max(seconds, 0.0))


# -- read at scrape time ------------------------------------------------------------------------------------------
def callout_gauges() -> Iterator[Metric]:
    """The business gauges, from the callout counters of running and paused callouts (one grouped query) plus the
    accounts involved (one query) and the callouts per status (one query)."""
    from django.db.models import Count

    from accounts.models import Account
    from accounts.settings import AccountSettings
    from callouts import counters
    from callouts.models import Callout

    statuses = (Callout.Status.RUNNING, Callout.Status.PAUSED)
    callouts = dict.fromkeys(statuses, 0)
    for status, count in (
        Callout.objects.filter(status__in=statuses).order_by().values_list("status").annotate(n=Count("pk"))
    ):
        callouts[status] = count
    totals = counters.totals_by_account(callout_statuses=statuses)
    in_flight_keys = [counters.CALL_KEYS[status] for status in IN_FLIGHT_STATUSES]
    in_flight = dict.fromkeys(statuses, 0)
    still_to_call = dict.fromkeys(statuses, 0)
    in_flight_by_account: dict[int, int] = {}
    for (account_id, status), values in totals.items():
        flying = sum(values[key] for key in in_flight_keys)
        in_flight[status] += flying
        in_flight_by_account[account_id] = in_flight_by_account.get(account_id, 0) + flying
        still_to_call[status] += values[counters.PARTICIPATIONS] - values[counters.ANSWERED] - values[counters.GIVEN_UP]
    running_accounts = Callout.objects.filter(status=Callout.Status.RUNNING).values("account_id")
    limit_total, at_limit = 0, 0
    for account in Account.objects.filter(pk__in=running_accounts).only("pk", "settings"):
        limit = AccountSettings.from_account(account).phone_call_queue_limit
        limit_total += limit
        at_limit += in_flight_by_account.get(account.pk, 0) >= limit
    paused_dialling = Account.objects.filter(dialling_paused_at__isnull=False).count()

    def by_status(name: str, documentation: str, values: dict) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, documentation, labels=["callout_status"])
        for status, value in values.items():
            family.add_metric([str(status)], float(value))
        return family

    yield by_status("scfm_callouts", "Callouts running or paused", callouts)
    yield by_status(
        "scfm_calls_in_flight", "Calls queued, remotely queued or in progress, of running or paused callouts", in_flight
    )
    yield by_status(
        "scfm_participations_still_to_call",
        "Participations neither answered nor given up, of running or paused callouts",
        still_to_call,
    )
    yield GaugeMetricFamily(
        "scfm_calls_in_flight_limit",
        "The in-flight limit (phone_call_queue_limit) summed over the accounts with running callouts",
        value=float(limit_total),
    )
    yield GaugeMetricFamily(
        "scfm_accounts_at_in_flight_limit",
        "Accounts with running callouts whose calls in flight have reached their limit",
        value=float(at_limit),
    )
    yield GaugeMetricFamily(
        "scfm_accounts_dialling_paused",
        "Accounts whose dialling is paused because the provider refused the account",
        value=float(paused_dialling),
    )
