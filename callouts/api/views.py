from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from scfm.api.viewsets import ParentScope, ResourceViewSet

from .. import selectors, services
from ..filters import CalloutFilter, CalloutParticipationFilter
from .serializers import (
    CalloutParticipationReadSerializer,
    CalloutParticipationUpdateSerializer,
    CalloutParticipationWriteSerializer,
    CalloutReadSerializer,
    CalloutStatisticsSerializer,
    CalloutStatisticsSeriesSerializer,
    CalloutWriteSerializer,
)


class CalloutViewSet(ResourceViewSet):
    permission_resource = "callouts"
    location_prefix = "callouts"
    read_serializer_class = CalloutReadSerializer
    write_serializer_class = CalloutWriteSerializer
    filterset_class = CalloutFilter
    parent_scopes = {"contact_id": ParentScope("contacts.Contact", "callout_participations__contact_id")}
    event_names = services.CALLOUT_EVENTS

    def base_queryset(self):
        return selectors.callout_list(account=self.account)

    def perform_create(self, data):
        return services.callout_create(account=self.account, **data)

    def perform_update(self, instance, data):
        return services.callout_update(callout=instance, **data)

    def perform_destroy(self, instance):
        services.callout_delete(callout=instance)

    def perform_event(self, instance, event):
        # who did it: the token and its account (single-tenant HTTP Basic has no token, only the account)
        principal = self.request.user
        return services.callout_fire_event(
            callout=instance,
            event=event,
            access_token=getattr(principal, "token", None),
            actor_account=getattr(principal, "account", None),
        )

    @extend_schema(
        summary="Show a callout's statistics",
        description="How far the callout has got: its participations (answered, still to call, given up) and its "
        "phone calls by status, read from the callout's counters.",
        responses=CalloutStatisticsSerializer,
    )
    def statistics(self, request, *args, **kwargs):
        """GET /api/callouts/:id/callout_statistics."""
        return Response(selectors.callout_statistics(callout=self.get_object()))

    def known_query_params(self) -> set[str]:
        known = super().known_query_params()
        return known | {"from", "to"} if self.action == "statistics_series" else known

    @extend_schema(
        summary="Show a callout's progress per minute",
        description="One point per minute from `from` to `to` (ISO 8601, UTC when no offset is given; `to` defaults "
        "to now, `from` to an hour before `to`): calls dialled, answered, busy, not answered, failed and errored "
        "in that minute, and participations answered / given up so far. A time that does not parse, `from` after "
        "`to`, or a range too long is a 422.",
        parameters=[
            OpenApiParameter("from", str, description="The first minute (ISO 8601)."),
            OpenApiParameter("to", str, description="The last minute (ISO 8601)."),
        ],
        responses=CalloutStatisticsSeriesSerializer,
    )
    def statistics_series(self, request, *args, **kwargs):
        """GET /api/callouts/:id/callout_statistics/series?from=...&to=... (selectors.callout_statistics_series)."""
        start, end = request.query_params.get("from"), request.query_params.get("to")
        return Response(selectors.callout_statistics_series(callout=self.get_object(), start=start, end=end))


class CalloutParticipationViewSet(ResourceViewSet):
    permission_resource = "callout_participations"
    location_prefix = "callout_participations"
    read_serializer_class = CalloutParticipationReadSerializer
    write_serializer_class = CalloutParticipationWriteSerializer
    update_serializer_class = CalloutParticipationUpdateSerializer
    filterset_class = CalloutParticipationFilter
    parent_scopes = {
        "callout_id": ParentScope("callouts.Callout", "callout_id"),
        "contact_id": ParentScope("contacts.Contact", "contact_id"),
        "batch_operation_id": ParentScope("batch_operations.BatchOperation", selectors.batch_operation_participations),
    }

    def base_queryset(self):
        return selectors.callout_participation_list(account=self.account)

    def perform_create(self, data):
        return services.callout_participation_create(callout=self.parent, **data)

    def perform_update(self, instance, data):
        return services.callout_participation_update(participation=instance, **data)

    def perform_destroy(self, instance):
        services.callout_participation_delete(participation=instance)

    def known_total(self):
        if set(self.kwargs) != {"callout_id"}:
            return None
        return selectors.callout_participations_total(callout_id=self.parent.pk, query_params=self.request.query_params)
