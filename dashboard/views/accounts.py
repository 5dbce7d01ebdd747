"""Users (invite, list, remove), Account settings, API keys: thin views over accounts' services and selectors,
scoped to the account being viewed (dashboard.tenancy.current_account)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts import selectors, services
from dashboard.errors import add_domain_errors
from dashboard.forms.accounts import (
    CREDENTIALS,
    NUMBER_LABELS,
    AccountSettingsForm,
    ApiKeyForm,
    InviteForm,
    initial_settings_form,
    masked,
    time_zone_datalist,
)
from dashboard.tenancy import current_account, principal
from scfm.errors import DomainError
from scfm.public_urls import absolute_url

USERS_SHOWN = 500
KEYS_SHOWN = 500


@login_required
def user_list(request):
    """The account's users and the invite form; POST invites (a user without a password gets the link by email)."""
    account = current_account(request)
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_invite_new(
                account=account,
                email=form.cleaned_data["email"],
                locale=form.cleaned_data["locale"],
                base_url=absolute_url(request, "/"),
            )
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
            return HttpResponseRedirect("/dashboard/users")
    users = selectors.user_list(account=account).order_by("email")[:USERS_SHOWN]
    return render(
        request,
        "dashboard/users/list.html",
        {"form": form, "users": users, "nav": "users"},
        status=422 if form.errors else 200,
    )


@login_required
def user_delete(request, user_id: int):
    """GET: confirm; POST: remove the user (never yourself). Another account's user is a 404."""
    user = selectors.user_list(account=current_account(request)).filter(pk=user_id).first()
    if user is None:
        raise Http404
    if user.pk == request.user.pk:
        messages.error(request, _("You cannot remove yourself."))
        return HttpResponseRedirect("/dashboard/users")
    if request.method == "POST":
        services.user_delete(user=user)
        messages.success(request, _("%(email)s was removed.") % {"email": user.email})
        return HttpResponseRedirect("/dashboard/users")
    context = {
        "title": _("Remove user"),
        "question": _("Remove %(email)s? They will no longer be able to sign in.") % {"email": user.email},
        "action": f"/dashboard/users/{user.pk}/delete",
        "cancel": "/dashboard/users",
        "nav": "users",
    }
    return render(request, "dashboard/confirm_delete.html", context)


@login_required
def account_settings(request):
    """The provider, its credentials (write-only: masked once saved), the default call flow and the dialling
    settings, validated by accounts/settings.py as the API validates them."""
    account = current_account(request)
    form = AccountSettingsForm(
        request.POST if request.method == "POST" else None, initial=initial_settings_form(account)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(
                account=account, settings=form.settings_hash(account.settings), **form.account_fields(account)
            )
        except DomainError as error:
            account.refresh_from_db()
            add_domain_errors(form, error, settings_fields=(*NUMBER_LABELS, "time_zone", "retry_statuses"))
        else:
            messages.success(request, _("Account settings saved."))
            return HttpResponseRedirect("/dashboard/settings")
    saved = {key: masked(getattr(account, key)) for key in CREDENTIALS}
    return render(
        request,
        "dashboard/accounts/settings.html",
        {"form": form, "saved": saved, "account": account, "time_zones": time_zone_datalist(), "nav": "settings"},
        status=422 if form.errors else 200,
    )


@login_required
def api_key_list(request):
    """The account's API keys (masked) and the create form; a new key is shown in full once, on the next page."""
    account = current_account(request)
    acting = principal(request)
    form = ApiKeyForm(request.POST if request.method == "POST" else None, held=acting.permissions)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        try:
            token = services.access_token_create(
                principal=acting,
                account=account,
                permissions=form.cleaned_data["permissions"],
                metadata={"name": name} if name else None,
            )
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            # shown once: the session carries it to the next page, which pops it
            request.session["dashboard_new_api_key"] = {"id": token.pk, "token": token.token}
            messages.success(request, _("API key created. Copy it now: it will not be shown again."))
            return HttpResponseRedirect("/dashboard/api_keys")
    new_key = request.session.pop("dashboard_new_api_key", None)
    keys = selectors.access_token_list(account=account).order_by("-id")[:KEYS_SHOWN]
    return render(
        request,
        "dashboard/accounts/api_keys.html",
        {"form": form, "keys": keys, "new_key": new_key, "nav": "api_keys"},
        status=422 if form.errors else 200,
    )


@login_required
def api_key_delete(request, key_id: int):
    """GET: confirm; POST: revoke the key (the API's rule: its creator's account or a super admin)."""
    token = selectors.access_token_list(account=current_account(request)).filter(pk=key_id).first()
    if token is None:
        raise Http404
    if request.method == "POST":
        try:
            services.access_token_delete(principal=principal(request), token=token)
        except DomainError:
            messages.error(request, _("Only the account that created this key can revoke it."))
        else:
            messages.success(request, _("API key revoked."))
        return HttpResponseRedirect("/dashboard/api_keys")
    context = {
        "title": _("Revoke API key"),
        "question": _("Revoke the key ending in %(end)s? Programs using it will be refused.")
        % {"end": token.token[-4:]},
        "action": f"/dashboard/api_keys/{token.pk}/delete",
        "cancel": "/dashboard/api_keys",
        "nav": "api_keys",
    }
    return render(request, "dashboard/confirm_delete.html", context)
