"""A callout's live numbers as the dashboard shows them, from the counters (callouts.selectors): answered, still to
call, given up, calls by outcome, calls in flight against the account's limit, and the time left."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from accounts.settings import AccountSettings
from callouts import selectors

EVENT_LABELS = {"start": _("Start"), "pause": _("Pause"), "resume": _("Resume"), "stop": _("Stop")}

# calls by outcome, in the order the page lists them: (statistics key, label)
OUTCOMES = [
    ("calls_completed", _("Answered")),
    ("calls_busy", _("Busy")),
    ("calls_not_answered", _("Not answered")),
    ("calls_failed", _("Failed")),
    ("calls_errored", _("Errored")),
    ("calls_canceled", _("Canceled")),
    ("calls_expired", _("Expired")),
    ("calls_initialized", _("Waiting to be dialled")),
]


def callout_live(callout) -> dict:
    """The numbers of the callout page's progress panel. Three queries, none scanning participations or calls:
    the statistics, the account's calls in flight and the settle rate over the last 5 minutes (the callout's
    account, for its limit, comes with the callout: callouts.selectors.callout_list)."""
    stats = selectors.callout_statistics(callout=callout)
    participations = stats["callout_participations"]
    settled = stats["callout_participations_answered"] + stats["callout_participations_given_up"]
    still_to_call = stats["callout_participations_still_to_call"]
    rate = selectors.callout_settle_rate(callout=callout)
    time_left = timedelta(minutes=still_to_call / rate) if rate > 0 and still_to_call > 0 else None
    return {
        "stats": stats,
        "participations": participations,
        "answered": stats["callout_participations_answered"],
        "given_up": stats["callout_participations_given_up"],
        "still_to_call": still_to_call,
        "percent": round(100 * settled / participations) if participations else 0,
        "outcomes": [{"key": key, "label": label, "count": stats[key]} for key, label in OUTCOMES],
        "in_flight_callout": stats["calls_waiting_for_completion"],
        "in_flight_account": selectors.account_calls_in_flight(account=callout.account),
        "limit": AccountSettings.from_account(callout.account).phone_call_queue_limit,
        "rate": rate,
        "time_left": time_left,
        "time_left_text": _duration_text(time_left),
        "dialling_paused_reason": stats["dialling_paused_reason"],
        "running": callout.status == "running",
    }


def _duration_text(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = max(1, round(value.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    if hours:
        return str(_("%(hours)d h %(minutes)d min")) % {"hours": hours, "minutes": minutes}
    return str(_("%(minutes)d min")) % {"minutes": minutes}
