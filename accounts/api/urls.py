from django.urls import path

from scfm.api.routing import event, nested, resource

from .views import AccessTokenViewSet, AccountViewSet, CurrentAccountViewSet, UserViewSet

urlpatterns = [
    path(
        "account",
        CurrentAccountViewSet.as_view({"get": "retrieve", "patch": "partial_update", "put": "update"}),
        name="current-account",
    ),
    *resource("accounts", AccountViewSet),
    *resource("access_tokens", AccessTokenViewSet),
    *nested("accounts/<int:account_id>/access_tokens", AccessTokenViewSet, name="account-access-tokens"),
    *resource("users", UserViewSet),
    *nested("accounts/<int:account_id>/users", UserViewSet, name="account-users"),
    *event("users/<int:pk>/user_events", UserViewSet, name="user-events"),
]
