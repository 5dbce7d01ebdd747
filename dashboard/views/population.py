"""Populating a callout (the filter builder with its live preview, a population's progress, undo), rehearsing it,
and "call me first". Thin: selectors read, services write (batch_operations, callouts, phone_calls), as the API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from batch_operations.models import BatchOperation
from batch_operations.population_undo import population_undo, population_undo_preview
from batch_operations.rehearsals import callout_rehearsal_create
from batch_operations.selectors import population_filter_preview, population_list, population_progress
from batch_operations.services import batch_operation_create, batch_operation_fire_event
from callouts.audio import audio_max_size, callout_audio_attach
from callouts.selectors import callout_list
from dashboard.errors import add_domain_errors
from dashboard.forms.population import MAX_ROWS, CallMeForm, CalloutAudioForm, filter_rows
from dashboard.tenancy import current_account
from phone_calls.call_me import callout_call_me, user_phone_number_set
from scfm.errors import DomainError

POPULATIONS_SHOWN = 20


def callout_of(request, callout_id: int):
    """The current account's callout, else 404 (another account's id included)."""
    return get_object_or_404(callout_list(account=current_account(request)), pk=callout_id)


def error_messages(error: DomainError) -> list[str]:
    """A DomainError's messages as sentences for a page ("contact_filter_params metadata: ... is not ...")."""
    lines: list[str] = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix} {key}".strip() if key != "base" else prefix, inner)
        elif isinstance(value, list):
            for item in value:
                walk(prefix, item)
        else:
            lines.append(f"{prefix}: {value}" if prefix else str(value))

    walk("", error.errors)
    return lines


def _row_count(request) -> int:
    try:
        return max(1, min(int(request.GET.get("rows", 3)), MAX_ROWS))
    except ValueError:
        return 3


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def populate(request, callout_id: int):
    """GET: the filter builder with its live preview and the callout's populations; POST: create the population
    from the rows and queue it, then show its progress."""
    callout = callout_of(request, callout_id)
    rows = filter_rows(request.POST if request.method == "POST" else None, rows=_row_count(request))
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if rows.is_valid():
            try:
                operation = batch_operation_create(
                    account=callout.account,
                    type=BatchOperation.Type.CALLOUT_POPULATION,
                    callout=callout,
                    parameters={"contact_filter_params": rows.contact_filter_params()},
                )
                batch_operation_fire_event(batch_operation=operation, event="queue")
            except DomainError as error:
                errors = error_messages(error)
            else:
                messages.success(request, _("The population is queued: contacts are being added."))
                return HttpResponseRedirect(f"/dashboard/callouts/{callout.pk}/populations/{operation.pk}")
        status = 422
    populations = list(population_list(callout=callout)[:POPULATIONS_SHOWN])
    context = {"callout": callout, "rows": rows, "errors": errors, "populations": populations, "nav": "callouts"}
    return render(request, "dashboard/population/populate.html", context, status=status)


@login_required
@require_safe
def populate_preview(request, callout_id: int):
    """The live count and first matching contacts of the rows in the query string (an htmx fragment; a page of
    its own without htmx). The count gives up after 2 s and says so."""
    callout = callout_of(request, callout_id)
    bound = "rows-TOTAL_FORMS" in request.GET  # no rows at all: every contact, as an empty builder
    rows = filter_rows(request.GET if bound else None)
    preview, errors = None, []
    if not bound or rows.is_valid():
        try:
            params = rows.contact_filter_params() if bound else {}
            preview = population_filter_preview(account=callout.account, contact_filter_params=params)
        except DomainError as error:
            errors = error_messages(error)
    context = {"callout": callout, "rows": rows, "preview": preview, "errors": errors, "nav": "callouts"}
    if request.htmx:  # htmx swaps only 2xx answers: the fragment carries its own error
        return render(request, "dashboard/population/_preview.html", context)
    status = 200 if preview is not None else 422
    return render(request, "dashboard/population/preview_page.html", context, status=status)


def _population_of(request, callout_id: int, population_id: int):
    callout = callout_of(request, callout_id)
    operation = get_object_or_404(population_list(callout=callout), pk=population_id)
    operation.callout = callout
    return callout, operation


@login_required
@require_safe
def population_detail(request, callout_id: int, population_id: int):
    """One population: its filter, progress bar (refreshed by htmx while it runs) and the way to undo it."""
    callout, operation = _population_of(request, callout_id, population_id)
    progress = population_progress(batch_operation=operation)
    context = {"callout": callout, "population": operation, "progress": progress, "nav": "callouts"}
    if request.htmx:
        return render(request, "dashboard/population/_progress.html", context)
    return render(request, "dashboard/population/detail.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def population_undo_view(request, callout_id: int, population_id: int):
    """GET: how many participations undoing removes (or why it can't be undone); POST: undo it."""
    callout, operation = _population_of(request, callout_id, population_id)
    if request.method == "POST":
        try:
            removed = population_undo(batch_operation=operation)
        except DomainError as error:
            for line in error_messages(error):
                messages.error(request, line)
            return HttpResponseRedirect(f"/dashboard/callouts/{callout.pk}/populations/{operation.pk}/undo")
        messages.success(request, _("Population undone: %(count)s participations removed.") % {"count": removed})
        return HttpResponseRedirect(f"/dashboard/callouts/{callout.pk}/populate")
    preview = population_undo_preview(batch_operation=operation)
    context = {"callout": callout, "population": operation, "preview": preview, "nav": "callouts"}
    return render(request, "dashboard/population/undo.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def rehearse(request, callout_id: int):
    """GET: what a rehearsal is, with the button; POST: make the rehearsal copy and open it."""
    callout = callout_of(request, callout_id)
    error = None
    if request.method == "POST":
        try:
            rehearsal = callout_rehearsal_create(callout=callout, created_by=request.user)
        except DomainError as refused:
            error = " ".join(error_messages(refused))
        else:
            messages.success(
                request,
                _(
                    "Rehearsal created: its participants are being copied. Start it to practise: it dials through "
                    "the simulator, calling nobody."
                ),
            )
            return HttpResponseRedirect(f"/dashboard/callouts/{rehearsal.pk}")
    context = {"callout": callout, "error": error, "nav": "callouts"}
    return render(request, "dashboard/population/rehearse.html", context, status=422 if error else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def call_me(request, callout_id: int):
    """GET: the user's number and the button; POST: save the number (when changed) and call it now with the
    callout's message."""
    callout = callout_of(request, callout_id)
    user = request.user
    form = CallMeForm(request.POST if request.method == "POST" else None, initial={"phone_number": user.phone_number})
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["phone_number"] != user.phone_number:
                user_phone_number_set(user=user, phone_number=form.cleaned_data["phone_number"])
            call = callout_call_me(callout=callout, user=user)
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            messages.success(
                request, _("Calling %(number)s now with this callout's message.") % {"number": call.msisdn}
            )
            return HttpResponseRedirect(f"/dashboard/phone_calls/{call.pk}")
    status = 422 if form.errors else 200
    return render(request, "dashboard/population/call_me.html", {"callout": callout, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def callout_audio(request, callout_id: int):
    """GET: the upload form (with the current audio); POST: store the file as the callout's message, served to the
    provider at an unguessable URL (callouts/audio.py)."""
    callout = callout_of(request, callout_id)
    form = CalloutAudioForm(request.POST if request.method == "POST" else None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            callout_audio_attach(callout=callout, upload=form.cleaned_data["audio_file"])
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("The audio file is uploaded: calls of this callout play it."))
            return HttpResponseRedirect(f"/dashboard/callouts/{callout.pk}")
    context = {"callout": callout, "form": form, "max_mb": audio_max_size() // (1024 * 1024), "nav": "callouts"}
    return render(request, "dashboard/population/audio.html", context, status=422 if form.errors else 200)
