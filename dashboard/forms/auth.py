"""Forms of sign-in, password reset, invitations, the language switch and the super-admin account switch."""

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form; accounts.User has no is_active column, so users are looked up by email (any case) alone.
    Users who never set a password (invited, not accepted) get no email, as in Django."""

    def get_users(self, email):
        users = User.objects.filter(email__iexact=email.strip())
        return (user for user in users if user.has_usable_password())


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    next = forms.CharField(required=False)


class SwitchAccountForm(forms.Form):
    account_id = forms.IntegerField(label=_("Account"), min_value=1, max_value=2**63 - 1)
