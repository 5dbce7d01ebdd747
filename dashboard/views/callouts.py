"""Callout pages: the list (home), create/edit/delete, the callout with its events, live progress and chart."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from callouts.selectors import callout_list as select_callouts
from dashboard.tenancy import current_account


@login_required
def callout_list(request):
    callouts = select_callouts(account=current_account(request)).order_by("-id")[:50]
    return render(request, "dashboard/callouts/list.html", {"callouts": callouts})
