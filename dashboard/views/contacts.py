"""Contacts: the list with the API's filters, create/edit (msisdn + metadata), delete, and CSV imports (upload,
progress polled with htmx, the rejected rows). Reads through contacts.selectors, writes through contacts.services and
contacts.imports, scoped to the account being viewed."""

from contextlib import contextmanager

import psycopg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import OperationalError, connection, transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _

from contacts import selectors, services
from contacts.filters import ContactFilter
from contacts.imports import contact_import_create
from dashboard.errors import add_domain_errors
from dashboard.forms.contacts import OPERATORS, ContactForm, ImportForm, filter_rows, rows_to_query
from dashboard.tenancy import current_account
from scfm.db import is_postgresql
from scfm.errors import DomainError
from scfm.query.filters import apply_filters, query_filters
from scfm.query.params import nest_querydict

PAGE_SIZE = 50
TIME_LIMIT_MS = 2000  # a filter that matches few of many contacts may scan them all: the page gives up and says so
COUNT_CAP = 10_000  # a count past this is shown as "more than 10,000" (no full scan of a large account)
SAMPLE_CSV = (
    "msisdn,name,gender,date_of_birth:date,households:number,districts:list\r\n"
    "+855 12 345 678,Sok Dara,f,1990-01-31,4,0102|0103\r\n"
    "+855 17 888 999,Chan Vuthy,m,1985-06-15,2,0201\r\n"
)


class QueryCanceled(Exception):
    """The list's statements took longer than TIME_LIMIT_MS."""


@contextmanager
def _time_limit(milliseconds: int):
    """PostgreSQL's statement_timeout for the statements inside (a savepoint, so the request's transaction stays
    usable); raises QueryCanceled when one is cancelled. Elsewhere (SQLite) no limit."""
    if not is_postgresql(connection):
        yield
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [milliseconds])
            yield
    except OperationalError as error:
        if isinstance(error.__cause__, psycopg.errors.QueryCanceled):
            raise QueryCanceled from None
        raise


def _filtered(request, account):
    """The account's contacts narrowed by the GET's q[...] params (the API's language) and the filter rows."""
    raw = request.GET.copy()
    for name in ("mk", "mo", "mv", "before"):
        raw.pop(name, None)
    params = nest_querydict(raw)
    filters = query_filters(params, ContactFilter)
    metadata = rows_to_query(filter_rows(request.GET))
    if metadata:
        existing = filters.get("metadata")
        filters["metadata"] = {**(existing if isinstance(existing, dict) else {}), **metadata}
    return apply_filters(ContactFilter, filters, selectors.contact_list(account=account))


@login_required
def contact_list(request):
    """Newest first, PAGE_SIZE a page (keyset: `before=<id>`), with a capped count of the matches."""
    account = current_account(request)
    errors, timed_out = None, False
    contacts, count, next_url = [], 0, None
    try:
        queryset = _filtered(request, account)
        before = request.GET.get("before", "")
        page = queryset.filter(pk__lt=int(before)) if before.isdigit() and len(before) < 19 else queryset
        with _time_limit(TIME_LIMIT_MS):
            count = queryset.order_by()[: COUNT_CAP + 1].count()
            contacts = list(page.order_by("-id")[: PAGE_SIZE + 1])
    except DomainError as error:
        errors = error.errors
    except QueryCanceled:
        timed_out, contacts = True, []
    if len(contacts) > PAGE_SIZE:
        contacts = contacts[:PAGE_SIZE]
        query = request.GET.copy()
        query["before"] = str(contacts[-1].pk)
        next_url = f"/dashboard/contacts?{query.urlencode()}"
    context = {
        "contacts": contacts,
        "count": count,
        "capped": count > COUNT_CAP,
        "cap": COUNT_CAP,
        "next_url": next_url,
        "rows": filter_rows(request.GET),
        "operators": [(key, label) for key, (_suffix, label) in OPERATORS.items()],
        "filter_errors": errors,
        "timed_out": timed_out,
        "msisdn_filter": request.GET.get("q[msisdn]", ""),
        "nav": "contacts",
    }
    template = "dashboard/contacts/_table.html" if request.htmx else "dashboard/contacts/list.html"
    return render(request, template, context, status=422 if errors else 200)


def _contact_or_404(request, contact_id: int):
    contact = selectors.contact_get(account_id=current_account(request).pk, contact_id=contact_id)
    if contact is None:
        raise Http404
    return contact


def _save(request, form: ContactForm, contact=None):
    if not form.is_valid():
        return None
    try:
        if contact is None:
            return services.contact_create(
                account=current_account(request),
                msisdn=form.cleaned_data["msisdn"],
                metadata=form.cleaned_data["metadata"],
            )
        return services.contact_update(
            contact=contact,
            msisdn=form.cleaned_data["msisdn"],
            metadata=form.cleaned_data["metadata"],
            metadata_merge_mode="replace",
        )
    except DomainError as error:
        add_domain_errors(form, error)
        return None


@login_required
def contact_create(request):
    form = ContactForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        contact = _save(request, form)
        if contact is not None:
            messages.success(request, _("Contact %(msisdn)s created.") % {"msisdn": contact.msisdn})
            return HttpResponseRedirect("/dashboard/contacts")
    context = {"form": form, "contact": None, "nav": "contacts"}
    return render(request, "dashboard/contacts/form.html", context, status=422 if form.errors else 200)


@login_required
def contact_edit(request, contact_id: int):
    contact = _contact_or_404(request, contact_id)
    form = ContactForm(
        request.POST if request.method == "POST" else None,
        initial={"msisdn": contact.msisdn},
        original=contact.metadata,
    )
    if request.method == "POST":
        saved = _save(request, form, contact)
        if saved is not None:
            messages.success(request, _("Contact %(msisdn)s saved.") % {"msisdn": saved.msisdn})
            return HttpResponseRedirect("/dashboard/contacts")
    context = {"form": form, "contact": contact, "nav": "contacts"}
    return render(request, "dashboard/contacts/form.html", context, status=422 if form.errors else 200)


@login_required
def contact_delete(request, contact_id: int):
    """GET: confirm; POST: delete (refused, with the reason, when the contact is in callouts or has calls)."""
    contact = _contact_or_404(request, contact_id)
    if request.method == "POST":
        try:
            services.contact_delete(contact=contact)
        except DomainError:
            messages.error(request, _("This contact takes part in callouts or has phone calls: it cannot be deleted."))
            return HttpResponseRedirect(f"/dashboard/contacts/{contact.pk}")
        messages.success(request, _("Contact %(msisdn)s deleted.") % {"msisdn": contact.msisdn})
        return HttpResponseRedirect("/dashboard/contacts")
    context = {
        "title": _("Delete contact"),
        "question": _("Delete the contact %(msisdn)s?") % {"msisdn": contact.msisdn},
        "action": f"/dashboard/contacts/{contact.pk}/delete",
        "cancel": f"/dashboard/contacts/{contact.pk}",
        "nav": "contacts",
    }
    return render(request, "dashboard/confirm_delete.html", context)


@login_required
def import_new(request):
    """The upload form (the file is checked whole before anything is queued: contacts.imports)."""
    form = ImportForm(
        request.POST if request.method == "POST" else None, request.FILES if request.method == "POST" else None
    )
    if request.method == "POST" and form.is_valid():
        try:
            contact_import = contact_import_create(account=current_account(request), file=form.cleaned_data["file"])
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("Import queued."))
            return HttpResponseRedirect(f"/dashboard/contacts/import/{contact_import.pk}")
    imports = selectors.contact_import_list(account=current_account(request)).order_by("-id")[:10]
    context = {"form": form, "imports": imports, "nav": "contacts"}
    return render(request, "dashboard/contacts/import.html", context, status=422 if form.errors else 200)


@login_required
def import_sample(request):
    response = HttpResponse(SAMPLE_CSV, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contacts-sample.csv"'
    return response


def _import_or_404(request, import_id: int):
    contact_import = selectors.contact_import_list(account=current_account(request)).filter(pk=import_id).first()
    if contact_import is None:
        raise Http404
    return contact_import


def _import_context(contact_import) -> dict:
    total = contact_import.total_rows or 0
    percent = (
        100 if contact_import.status == "finished" else (100 * contact_import.processed_rows // total if total else 0)
    )
    return {
        "import": contact_import,
        "percent": min(percent, 100),
        "done": contact_import.status in ("finished", "failed"),
        "nav": "contacts",
    }


@login_required
def import_detail(request, import_id: int):
    return render(request, "dashboard/contacts/import_detail.html", _import_context(_import_or_404(request, import_id)))


@login_required
def import_progress(request, import_id: int):
    """The htmx partial polled every 2 seconds while the import runs (it stops polling when done)."""
    context = _import_context(_import_or_404(request, import_id))
    return render(request, "dashboard/contacts/_import_progress.html", context)
