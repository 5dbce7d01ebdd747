"""Sign-in and sign-out: Django's own views (email + password, accounts.User.USERNAME_FIELD is email)."""

from django.contrib.auth import views as auth_views


class LoginView(auth_views.LoginView):
    template_name = "dashboard/registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule); sends the user back to the login page."""

    next_page = "dashboard:login"
