"""Sign-in, password reset, invitations, language, account switch; contacts and their CSV imports; users, account
settings and API keys (dash-admin's pages)."""

from django.urls import path

from dashboard.views import accounts, auth, contacts

urlpatterns = [
    path("login", auth.LoginView.as_view(), name="login"),
    path("logout", auth.LogoutView.as_view(), name="logout"),
    path("password_reset", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password_reset/done", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password_reset/complete", auth.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("password_reset/<uidb64>/<token>", auth.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("invitations/<str:token>", auth.invitation, name="invitation"),
    path("language", auth.language, name="language"),
    path("switch_account", auth.account_switch, name="switch_account"),
    path("contacts", contacts.contact_list, name="contacts"),
    path("contacts/new", contacts.contact_create, name="contact_new"),
    path("contacts/import", contacts.import_new, name="contact_import"),
    path("contacts/import/sample.csv", contacts.import_sample, name="contact_import_sample"),
    path("contacts/import/<int:import_id>", contacts.import_detail, name="contact_import_detail"),
    path("contacts/import/<int:import_id>/progress", contacts.import_progress, name="contact_import_progress"),
    path("contacts/<int:contact_id>", contacts.contact_edit, name="contact"),
    path("contacts/<int:contact_id>/delete", contacts.contact_delete, name="contact_delete"),
    path("users", accounts.user_list, name="users"),
    path("users/<int:user_id>/delete", accounts.user_delete, name="user_delete"),
    path("settings", accounts.account_settings, name="settings"),
    path("api_keys", accounts.api_key_list, name="api_keys"),
    path("api_keys/<int:key_id>/delete", accounts.api_key_delete, name="api_key_delete"),
]
