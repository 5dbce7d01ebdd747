"""The base viewset every resource uses: account scoping, nested parents, the response conventions."""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import transaction
from django.http import Http404
from rest_framework import status
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from .fields import EventSerializer
from .filters import REQUEST_PARAMS, SortBackend, check_query_params


@dataclass(frozen=True)
class ParentScope:
    """A nested route's parent: `/api/callouts/<callout_id>/contacts` -> Callout, scoped to the caller's account."""

    model: str  # "callouts.Callout"
    # how the child queryset is narrowed to the parent: a lookup ("callout_participations__callout_id") or a
    # function (queryset, parent) -> queryset
    lookup: str | Callable
    account_path: str = "account"

    def narrow(self, queryset, parent):
        if callable(self.lookup):
            return self.lookup(queryset, parent)
        return queryset.filter(**{self.lookup: parent.pk})

    def get(self, account, pk):
        model = apps.get_model(self.model)
        parent = model.objects.filter(**{self.account_path: account, "pk": pk}).first()
        if parent is None:
            raise Http404
        return parent


class ResourceViewSet(GenericViewSet):
    """Create 201 + Location, update and delete 204, show 200 + Location; everything scoped to the account.

    Subclasses declare `permission_resource`, `location_prefix`, the serializers, a `filterset_class`,
    `parent_scopes`, and implement `base_queryset` (a selector) and the `perform_*` hooks (services).

    Every request's query string is checked once authenticated and permitted (`initial`): malformed brackets or a
    name the action does not read is a 422 naming the key. Known names: REQUEST_PARAMS, the view's own
    `query_params`, and for actions answering a page (`paged_actions`) the paginator's and `sort`; `list` adds its
    filter backends' (`q` and the FilterSet's names, for the legacy unnested form). Bodies are checked by their
    serializers (scfm.api.fields.WriteSerializer).
    """

    permission_resource: str
    location_prefix: str
    read_serializer_class = None
    write_serializer_class = None
    update_serializer_class = None
    filterset_class = None
    parent_scopes: dict[str, ParentScope] = {}
    parent = None
    query_params: tuple[str, ...] = ()  # query parameters the view reads itself (e.g. `account_id`)
    paged_actions: tuple[str, ...] = ("list",)  # actions answering a page (page, per_page, sort)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        check_query_params(request, self.known_query_params())

    def known_query_params(self) -> set[str]:
        """The query parameter names the current action reads."""
        known = {*REQUEST_PARAMS, *self.query_params}
        if self.action in self.paged_actions:
            known |= {*getattr(self.paginator, "query_params", ()), *SortBackend().query_param_names(self)}
        if self.action == "list":
            for backend in self.filter_backends:
                known |= backend().query_param_names(self)
        return known

    @property
    def account(self):
        return self.request.user.account

    @property
    def principal(self):
        return self.request.user

    def get_serializer_class(self):
        if self.action == "create":
            return self.write_serializer_class
        if self.action in ("update", "partial_update"):
            return self.update_serializer_class or self.write_serializer_class
        return self.read_serializer_class

    def base_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        queryset = self.base_queryset()
        for kwarg, scope in self.parent_scopes.items():
            if kwarg in self.kwargs:
                self.parent = scope.get(self.account, self.kwargs[kwarg])
                queryset = scope.narrow(queryset, self.parent)
        return queryset

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def location(self, instance) -> str:
        return f"/api/{self.location_prefix}/{instance.pk}"

    def read(self, instance, **kwargs):
        return self.read_serializer_class(instance, context=self.get_serializer_context(), **kwargs).data

    def validated(self, serializer_class=None, instance=None, partial=False) -> dict:
        """The request body validated by `serializer_class` (the action's write serializer by default); a 422 for
        bad values or a name it does not declare ("is read-only" when the resource shows that name)."""
        serializer_class = serializer_class or self.get_serializer_class()
        context = self.get_serializer_context()
        if self.read_serializer_class is not None:
            context["read_only_names"] = frozenset(self.read_serializer_class().fields)
        serializer = serializer_class(instance=instance, data=self.request.data, partial=partial, context=context)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    # actions ------------------------------------------------------------------------------------------------
    def known_total(self) -> int | None:
        """The list's exact `Total` when the view knows it without counting rows (counters), else None."""
        return None

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.read(page, many=True))

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        return Response(self.read(instance), headers={"Location": self.location(instance)})

    def create(self, request, *args, **kwargs):
        self.get_queryset()  # resolves and checks the parent of a nested create
        instance = self.perform_create(self.validated())
        return Response(
            self.read(instance), status=status.HTTP_201_CREATED, headers={"Location": self.location(instance)}
        )

    def partial_update(self, request, *args, **kwargs):
        with transaction.atomic():
            instance = self.locked(self.get_object())
            data = self.validated(instance=instance, partial=True)
            instance = self.perform_update(instance, data)
        return Response(status=status.HTTP_204_NO_CONTENT, headers={"Location": self.location(instance)})

    @staticmethod
    def locked(instance):
        """The same row, locked until the transaction ends, so concurrent updates merging metadata (or anything
        read-modify-write) apply one after the other instead of overwriting each other."""
        return type(instance)._default_manager.select_for_update().get(pk=instance.pk)

    update = partial_update

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        self.perform_destroy(instance)
        return Response(status=status.HTTP_204_NO_CONTENT, headers={"Location": f"/api/{self.location_prefix}"})

    def fire_event(self, request, *args, **kwargs):
        """`POST .../<entity>_events {"event": ...}`: 201 with the updated resource, 422 for a bad event."""
        instance = self.get_object()
        event = self.validated(EventSerializer).get("event")
        instance = self.perform_event(instance, str(event or ""))
        return Response(
            self.read(instance), status=status.HTTP_201_CREATED, headers={"Location": self.location(instance)}
        )

    # hooks ----------------------------------------------------------------------------------------------------
    def perform_create(self, data: dict):
        raise NotImplementedError

    def perform_update(self, instance, data: dict):
        raise NotImplementedError

    def perform_destroy(self, instance) -> None:
        raise NotImplementedError

    def perform_event(self, instance, event: str):
        raise NotImplementedError
