"""A callout's participations and phone calls, the account's phone calls, one call's events, and recordings.

Lists are newest first, 50 rows a page, paged by id (`?before=<id>`: keyset, so page 1,000 costs what page 1 does).
Totals come from the callout's counters where they cover the filter (callouts/selectors.py); other totals are
counted up to 10,000 and shown as "more than 10,000" past that (scfm/db.py capped_count)."""

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from callouts.selectors import callout_participation_list, callout_phone_calls_total, callout_statistics
from dashboard.forms.population import ParticipationFilterForm, PhoneCallFilterForm
from dashboard.tenancy import current_account
from dashboard.views.population import callout_of
from phone_calls.models import PhoneCall
from phone_calls.selectors import phone_call_list, recording_list, remote_phone_call_event_list
from scfm.db import capped_count

PAGE_SIZE = 50
COUNT_CAP = 10_000


def page_of(request, queryset):
    """(rows, id for the next page or None): the rows with id below `?before`, newest first, PAGE_SIZE of them.
    A `before` that is not a number is ignored (the first page)."""
    before = request.GET.get("before", "")
    if before.isdigit():
        queryset = queryset.filter(pk__lt=int(before))
    rows = list(queryset.order_by("-id")[: PAGE_SIZE + 1])
    next_before = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    return rows[:PAGE_SIZE], next_before


def _status_filter(request):
    form = PhoneCallFilterForm(request.GET or None, statuses=PhoneCall.Status.choices)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    return form, status


# participation filter -> (queryset filter, key of callout_statistics giving its total)
PARTICIPATION_FILTERS = {
    "": ({}, "callout_participations"),
    "answered": ({"answered": True}, "callout_participations_answered"),
    "still_to_call": ({"answered": False, "given_up_at__isnull": True}, "callout_participations_still_to_call"),
    "given_up": ({"given_up_at__isnull": False}, "callout_participations_given_up"),
}


@login_required
@require_safe
def participations(request, callout_id: int):
    """The callout's participations, newest first, filtered by outcome; the total from its counters."""
    callout = callout_of(request, callout_id)
    form = ParticipationFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    lookups, total_key = PARTICIPATION_FILTERS[status]
    queryset = callout_participation_list(account=callout.account).filter(callout=callout, **lookups)
    rows, next_before = page_of(request, queryset)
    total = callout_statistics(callout=callout)[total_key]
    context = {
        "callout": callout,
        "form": form,
        "status": status,
        "rows": rows,
        "next_before": next_before,
        "total": total,
        "nav": "callouts",
    }
    return render(request, "dashboard/calls/participations.html", context, status=422 if form.errors else 200)


@login_required
@require_safe
def callout_phone_calls(request, callout_id: int):
    """The callout's phone calls, filtered by status, newest first; the total from its counters."""
    callout = callout_of(request, callout_id)
    form, status = _status_filter(request)
    calls = phone_call_list(account=callout.account).filter(callout=callout)
    if status:
        calls = calls.filter(status=status)
    rows, next_before = page_of(request, calls)
    total = callout_phone_calls_total(callout_id=callout.pk, query_params={"q[status]": status} if status else {})
    context = {
        "callout": callout,
        "form": form,
        "status": status,
        "rows": rows,
        "next_before": next_before,
        "total": total,
        "capped": False,
        "nav": "callouts",
    }
    return render(request, "dashboard/calls/phone_calls.html", context, status=422 if form.errors else 200)


@login_required
@require_safe
def phone_calls(request):
    """The account's phone calls, filtered by status, newest first; the total counted up to 10,000."""
    form, status = _status_filter(request)
    calls = phone_call_list(account=current_account(request)).select_related("callout")
    if status:
        calls = calls.filter(status=status)
    rows, next_before = page_of(request, calls)
    total, capped = capped_count(calls, cap=COUNT_CAP) if rows else (0, False)
    context = {
        "callout": None,
        "form": form,
        "status": status,
        "rows": rows,
        "next_before": next_before,
        "total": total,
        "capped": capped,
        "nav": "phone_calls",
    }
    return render(request, "dashboard/calls/phone_calls.html", context, status=422 if form.errors else 200)


@login_required
@require_safe
def phone_call_detail(request, phone_call_id: int):
    """One call and its provider events (oldest first)."""
    account = current_account(request)
    call = get_object_or_404(phone_call_list(account=account).select_related("callout"), pk=phone_call_id)
    events = list(remote_phone_call_event_list(account=account).filter(phone_call=call).order_by("id")[:200])
    context = {"call": call, "events": events, "nav": "phone_calls"}
    return render(request, "dashboard/calls/phone_call.html", context)


@login_required
@require_safe
def recordings(request):
    """The account's recordings (of one callout with `?callout_id=<id>`), newest first, each with an audio player."""
    account = current_account(request)
    queryset = recording_list(account=account).select_related("phone_call")
    callout = None
    callout_id = request.GET.get("callout_id", "")
    if callout_id:
        if not callout_id.isdigit():
            raise Http404
        callout = callout_of(request, int(callout_id))
        queryset = queryset.filter(phone_call__callout=callout)
    rows, next_before = page_of(request, queryset)
    context = {"rows": rows, "next_before": next_before, "callout": callout, "nav": "recordings"}
    return render(request, "dashboard/calls/recordings.html", context)


@login_required
@require_safe
def recording_audio(request, recording_id: int):
    """The recording's audio for the page's player (the signed-in account's only); 404 until it is fetched."""
    recording = get_object_or_404(recording_list(account=current_account(request)), pk=recording_id)
    if not recording.audio_file or not default_storage.exists(recording.audio_file.name):
        raise Http404
    return FileResponse(default_storage.open(recording.audio_file.name, "rb"), content_type="audio/mpeg")
