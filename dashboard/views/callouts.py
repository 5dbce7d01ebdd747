"""Callout pages: the list (home), create/edit/delete, the callout with its events, live progress and chart.

Thin views (STYLE.md): reads through callouts.selectors, writes through callouts.services, as the API does; every
lookup is scoped by dashboard.tenancy.current_account, so another account's callout is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from callouts import selectors, services
from callouts.audio import callout_audio_attach
from callouts.models import Callout
from dashboard.forms.callouts import CalloutForm, callout_name
from dashboard.live import EVENT_LABELS, callout_live
from dashboard.tenancy import current_account
from scfm.errors import DomainError

PER_PAGE = 25


def _callout(request, callout_id: int) -> Callout:
    callout = (
        selectors.callout_list(account=current_account(request))
        .select_related("created_by")
        .filter(pk=callout_id)
        .first()
    )
    if callout is None:
        raise Http404
    return callout


def _errors_text(error: DomainError) -> str:
    errors = error.errors if isinstance(error.errors, dict) else {"base": [str(error.errors)]}
    parts = []
    for field, messages_ in errors.items():
        text = "; ".join(str(m) for m in messages_) if isinstance(messages_, list) else str(messages_)
        parts.append(text if field == "base" else f"{field} {text}")
    return "; ".join(parts)


@login_required
@require_GET
def callout_list(request):
    """The home page: the account's callouts, newest first, with status and progress from the counters."""
    paginator = Paginator(selectors.callout_list(account=current_account(request)).order_by("-id"), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    progress = selectors.callout_progress_many(callout_ids=[callout.pk for callout in page.object_list])
    rows = []
    for callout in page.object_list:
        numbers = progress[callout.pk]
        done = numbers["answered"] + numbers["given_up"]
        percent = round(100 * done / numbers["participations"]) if numbers["participations"] else 0
        rows.append({"callout": callout, "name": callout_name(callout), "numbers": numbers, "percent": percent})
    return render(request, "dashboard/callouts/list.html", {"rows": rows, "page": page, "nav": "callouts"})


@login_required
@require_http_methods(["GET", "POST"])
def callout_new(request):
    account = current_account(request)
    form = CalloutForm(request.POST or None, request.FILES or None, account=account)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            callout = services.callout_create(account=account, created_by=request.user, **form.service_kwargs())
            if form.cleaned_data["audio_file"]:
                callout = callout_audio_attach(callout=callout, upload=form.cleaned_data["audio_file"])
        messages.success(request, _("Callout created."))
        return redirect("dashboard:callout-detail", callout_id=callout.pk)
    status = 422 if form.is_bound else 200
    return render(request, "dashboard/callouts/form.html", {"form": form, "nav": "callouts"}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def callout_edit(request, callout_id: int):
    callout = _callout(request, callout_id)
    form = CalloutForm(request.POST or None, request.FILES or None, initial=CalloutForm.initial_for(callout))
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            services.callout_update(callout=callout, metadata_merge_mode="merge", **form.service_kwargs())
            if form.cleaned_data["audio_file"]:
                callout_audio_attach(callout=callout, upload=form.cleaned_data["audio_file"])
        messages.success(request, _("Callout saved."))
        return redirect("dashboard:callout-detail", callout_id=callout.pk)
    context = {"form": form, "callout": callout, "name": callout_name(callout), "nav": "callouts"}
    return render(request, "dashboard/callouts/form.html", context, status=422 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def callout_delete(request, callout_id: int):
    """GET: the confirmation; POST: delete with the API's rule (no participations, no batch operations)."""
    callout = _callout(request, callout_id)
    if request.method == "POST":
        try:
            services.callout_delete(callout=callout)
        except DomainError as error:
            messages.error(request, _("The callout was not deleted: %(reason)s") % {"reason": _errors_text(error)})
            return redirect("dashboard:callout-detail", callout_id=callout.pk)
        messages.success(request, _("Callout deleted."))
        return redirect("dashboard:callout-list")
    context = {"callout": callout, "name": callout_name(callout), "nav": "callouts"}
    return render(request, "dashboard/callouts/delete.html", context)


@login_required
@require_GET
def callout_detail(request, callout_id: int):
    """The callout: its properties, the event buttons, live progress (htmx), the chart and who did what."""
    callout = _callout(request, callout_id)
    context = {
        "callout": callout,
        "name": callout_name(callout),
        "live": callout_live(callout),
        "events": selectors.callout_event_list(callout=callout),
        "actions": _available_events(callout),
        "nav": "callouts",
    }
    return render(request, "dashboard/callouts/detail.html", context)


@login_required
@require_GET
def callout_progress(request, callout_id: int):
    """The live progress fragment the callout page polls every few seconds (htmx); from the counters."""
    callout = _callout(request, callout_id)
    return render(request, "dashboard/callouts/_progress.html", {"callout": callout, "live": callout_live(callout)})


@login_required
@require_GET
def callout_series(request, callout_id: int):
    """The per-minute series as JSON for the chart: callouts.selectors.callout_statistics_series (the same as
    GET /api/callouts/:id/callout_statistics/series); `from` / `to` as there; a bad time is 422 {"errors": ...}."""
    callout = _callout(request, callout_id)
    try:
        series = selectors.callout_statistics_series(
            callout=callout, start=request.GET.get("from"), end=request.GET.get("to")
        )
    except DomainError as error:
        return JsonResponse({"errors": error.errors}, status=422)
    return JsonResponse(series)


def _available_events(callout: Callout) -> list[dict]:
    allowed = {transition.name for transition in callout.get_available_status_transitions()}  # type: ignore[attr-defined]
    return [{"event": event, "label": EVENT_LABELS[event]} for event in services.CALLOUT_EVENTS if event in allowed]


@login_required
@require_http_methods(["GET", "POST"])
def callout_event(request, callout_id: int, event: str):
    """GET: the confirmation (how many people will be called); POST: apply the event, recording who did it."""
    callout = _callout(request, callout_id)
    if event not in services.CALLOUT_EVENTS:
        raise Http404
    if request.method == "POST":
        try:
            services.callout_fire_event(callout=callout, event=event, user=request.user)
        except DomainError:
            messages.error(
                request,
                _("You cannot %(event)s a callout that is %(status)s.")
                % {"event": EVENT_LABELS[event].lower(), "status": callout.get_status_display().lower()},
            )
        else:
            messages.success(request, _("Done: %(event)s.") % {"event": EVENT_LABELS[event]})
        return redirect("dashboard:callout-detail", callout_id=callout.pk)
    live = callout_live(callout)
    context = {"callout": callout, "name": callout_name(callout), "event": event, "label": EVENT_LABELS[event]}
    context.update({"live": live, "allowed": event in {a["event"] for a in _available_events(callout)}})
    return render(request, "dashboard/callouts/event_confirm.html", {**context, "nav": "callouts"})
