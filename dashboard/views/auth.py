"""Sign-in, sign-out, password reset, invitations, the language switch and the super-admin account switch.

Django's own auth views (email + password; accounts/backends.py), behind django-axes: `locked_out` is the answer to a
locked-out sign-in (AXES_LOCKOUT_CALLABLE), `attempted_email` the name axes counts failures under.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.invitations import invited_user
from dashboard.forms.auth import LanguageForm, PasswordResetForm, SwitchAccountForm
from dashboard.tenancy import current_account, switch_account

LOGIN_TEMPLATE = "dashboard/registration/login.html"


class LoginView(auth_views.LoginView):
    template_name = LOGIN_TEMPLATE
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule); sends the user back to the login page."""

    next_page = "dashboard:login"


def attempted_email(request, credentials) -> str:
    """The email a sign-in tried, lower-cased, so axes counts `A@x.org` and `a@x.org` together."""
    value = (credentials or {}).get("username") or request.POST.get("username") or ""
    return str(value).strip().lower()


def locked_out(request, original_response=None, credentials=None):
    """The login page with the lockout message, 429 (too many wrong passwords for this email from this address)."""
    # unbound: a bound form would authenticate again while rendering its errors
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    message = _("Too many failed sign-ins. Try again in %(minutes)s minutes, or reset your password.") % {
        "minutes": minutes
    }
    return render(request, LOGIN_TEMPLATE, {"form": form, "locked_out": message}, status=429)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "dashboard/registration/password_reset_form.html"
    email_template_name = "dashboard/registration/password_reset_email.txt"
    subject_template_name = "dashboard/registration/password_reset_subject.txt"
    success_url = "/dashboard/password_reset/done"


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "dashboard/registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "dashboard/registration/password_reset_confirm.html"
    success_url = "/dashboard/password_reset/complete"


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "dashboard/registration/password_reset_complete.html"


def invitation(request, token: str):
    """An invited user chooses a password, and is signed in. A bad, used or expired link is a 404 page."""
    user = invited_user(token)
    if user is None:
        return render(request, "dashboard/registration/invitation_invalid.html", status=404)
    form = SetPasswordForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        account_services.user_password_set(user=user, password=form.cleaned_data["new_password1"])
        login(request, user, backend="accounts.backends.EmailBackend")
        messages.success(request, _("Welcome! Your password is set."))
        return HttpResponseRedirect("/dashboard/")
    return render(request, "dashboard/registration/invitation.html", {"form": form, "invited": user})


def _safe_next(request, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, {request.get_host()}, require_https=request.is_secure()):
        return value
    return "/dashboard/"


@require_POST
def language(request):
    """Switch the language (en, km): stored on the user when signed in, and in the language cookie."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Unknown language."))
    code = form.cleaned_data["language"]
    if request.user.is_authenticated:
        account_services.user_update(user=request.user, locale=code)
    response = HttpResponseRedirect(_safe_next(request, form.cleaned_data["next"]))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=365 * 24 * 3600,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


@login_required
def account_switch(request):
    """A super-admin user picks the account to view (404 for anyone else)."""
    if not request.user.account.is_super_admin:
        raise Http404
    form = SwitchAccountForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        account = account_selectors.account_get(account_id=form.cleaned_data["account_id"])
        if account is None:
            form.add_error("account_id", _("No account has this id."))
        else:
            switch_account(request, account)
            messages.success(request, _("You are now viewing account %(id)s.") % {"id": account.pk})
            return HttpResponseRedirect("/dashboard/")
    accounts = account_selectors.account_list_brief(limit=200)
    context = {"form": form, "accounts": accounts, "current": current_account(request), "nav": "switch"}
    return render(request, "dashboard/accounts/switch.html", context, status=422 if form.errors else 200)
