from django.http import Http404
from rest_framework import status
from rest_framework.response import Response

from scfm.api.viewsets import ResourceViewSet
from scfm.public_urls import absolute_url

from .. import selectors, services
from ..filters import AccessTokenFilter, AccountFilter, UserFilter
from ..models import Account
from .serializers import (
    AccessTokenReadSerializer,
    AccessTokenUpdateSerializer,
    AccessTokenWriteSerializer,
    AccountReadSerializer,
    AccountWriteSerializer,
    UserEventSerializer,
    UserReadSerializer,
    UserUpdateSerializer,
    UserWriteSerializer,
)


class AccountViewSet(ResourceViewSet):
    """/api/accounts: super admins manage every account."""

    schema_description = "Super admins only (any other token is a 403). Auth tokens are write-only: never returned."
    permission_resource = "accounts"
    location_prefix = "accounts"
    super_admin_only = True
    read_serializer_class = AccountReadSerializer
    write_serializer_class = AccountWriteSerializer
    filterset_class = AccountFilter

    def base_queryset(self):
        return selectors.account_list()

    def perform_create(self, data):
        account = services.account_create(**data)
        return self.base_queryset().get(pk=account.pk)

    def perform_update(self, instance, data):
        return services.account_update(account=instance, **data)

    def perform_destroy(self, instance):
        services.account_delete(account=instance)


class CurrentAccountViewSet(AccountViewSet):
    """/api/account: the caller's own account."""

    schema_description = "The account the access token belongs to; `Location` is its path under `/api/accounts`."
    super_admin_only = False

    def get_object(self):
        return self.base_queryset().get(pk=self.account.pk)


class AccountScopedMixin:
    """`/api/accounts/<account_id>/...` (or `?account_id=`) lets a super admin act on another account; others get
    their own (the original ignores account_id for them)."""

    query_params = ("account_id",)
    schema_description = (
        "A super admin may act on another account: `/api/accounts/{account_id}/...`, `?account_id=`, or `account_id` "
        "in a create's body; other tokens always act on their own account."
    )

    def target_account(self) -> Account:
        account_id = self.kwargs.get("account_id") or self.request.query_params.get("account_id")
        if account_id is None or not self.principal.is_super_admin:
            return self.account
        if not str(account_id).isdigit():
            raise Http404
        account = selectors.account_get(account_id=account_id)
        if account is None:
            raise Http404
        return account

    def account_from_body(self, data: dict) -> Account:
        account_id = data.pop("account_id", None) or data.pop("account_sid", None)
        data.pop("account_sid", None)
        if account_id is None or not self.principal.is_super_admin:
            return self.account
        account = selectors.account_get(account_id=account_id)
        if account is None:
            from scfm.errors import DomainError

            raise DomainError({"account_id": ["must exist"]})
        return account


class AccessTokenViewSet(AccountScopedMixin, ResourceViewSet):
    permission_resource = "access_tokens"
    location_prefix = "access_tokens"
    read_serializer_class = AccessTokenReadSerializer
    write_serializer_class = AccessTokenWriteSerializer
    update_serializer_class = AccessTokenUpdateSerializer
    filterset_class = AccessTokenFilter

    def base_queryset(self):
        return selectors.access_token_list(account=self.target_account())

    def perform_create(self, data):
        data = dict(data)
        account = self.account_from_body(data)
        return services.access_token_create(principal=self.principal, account=account, **data)

    def perform_update(self, instance, data):
        return services.access_token_update(principal=self.principal, token=instance, **data)

    def perform_destroy(self, instance):
        services.access_token_delete(principal=self.principal, token=instance)


class UserViewSet(AccountScopedMixin, ResourceViewSet):
    permission_resource = "users"
    location_prefix = "users"
    read_serializer_class = UserReadSerializer
    write_serializer_class = UserWriteSerializer
    update_serializer_class = UserUpdateSerializer
    filterset_class = UserFilter
    event_names = ("invite",)

    def base_queryset(self):
        return selectors.user_list(account=self.target_account())

    def perform_create(self, data):
        data = dict(data)
        account = self.account_from_body(data)
        return services.user_create(account=account, **data)

    def perform_update(self, instance, data):
        return services.user_update(user=instance, **data)

    def perform_destroy(self, instance):
        services.user_delete(user=instance)

    def fire_event(self, request, *args, **kwargs):
        user = self.get_object()
        self.validated(UserEventSerializer)
        user = services.user_invite(user=user, base_url=absolute_url(request, "/"))
        return Response(self.read(user), status=status.HTTP_201_CREATED, headers={"Location": self.location(user)})
