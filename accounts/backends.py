"""Sign-in of dashboard users: email (any case) + password, the user read with its account in one query.

Named in AUTHENTICATION_BACKENDS after django-axes's backend (scfm/settings.py), which refuses a locked-out email
and address before this one is asked. The API never uses it: tokens are checked by accounts/authentication.py.
"""

from django.contrib.auth.backends import BaseBackend

from .models import User


class EmailBackend(BaseBackend):
    """`authenticate(request, username=email, password=...)` -> the User, or None for a wrong email or password (or
    a user with no usable password yet: invited, not accepted). `get_user(id)` -> the User with its account."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if not email or password is None:
            return None
        user = User.objects.select_related("account").filter(email__iexact=email.strip()).first()
        if user is None:
            User().set_password(password)  # as long as a wrong password, so timing tells no email apart
            return None
        return user if user.check_password(password) else None

    def get_user(self, user_id):
        return User.objects.select_related("account").filter(pk=user_id).first()
