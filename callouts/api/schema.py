"""OpenAPI declarations (drf-spectacular `extend_schema`) of the callout statistics endpoints, whose responses are
plain dicts built by callouts/selectors.py rather than a model serializer (rest-api-current.txt, "Callout
Statistics"; the series is SCFM's own, documented in docs/api.md)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from .. import counters, selectors

# 401/403/404/413/422 and their `Errors` / `NotFound` bodies come from scfm/api/schema.py, as for every operation.

_STATISTICS = inline_serializer(
    name="CalloutStatistics",
    fields={
        "callout_status": serializers.CharField(),
        **{
            name: serializers.IntegerField()
            for name in (
                "callout_participations",
                "callout_participations_remaining",
                "callout_participations_completed",
                "callout_participations_answered",
                "callout_participations_still_to_call",
                "callout_participations_given_up",
                "phone_calls",
                *selectors.CALL_STATUS_COUNTS,
            )
        },
        "dialling_paused_reason": serializers.CharField(allow_null=True),
    },
)

_POINT = inline_serializer(
    name="CalloutStatisticsSeriesPoint",
    fields={
        "minute": serializers.DateTimeField(help_text="The minute (UTC) the counts belong to."),
        **{
            key: serializers.IntegerField(
                help_text="Participations so far, at the end of the minute."
                if key.startswith("participations_")
                else "Calls in that minute."
            )
            for key in counters.SERIES_KEYS
        },
    },
)

_SERIES = inline_serializer(
    name="CalloutStatisticsSeries",
    fields={
        "from": serializers.DateTimeField(),
        "to": serializers.DateTimeField(),
        "interval": serializers.ChoiceField(choices=["minute"]),
        "data": _POINT.__class__(many=True),
    },
)

statistics_schema = extend_schema(
    summary="A callout's statistics",
    description=(
        "Counts of the callout's participations and calls by status (rest-api-current.txt, Callout Statistics), "
        "read from the callout's counters: one query whatever the callout's size."
    ),
    responses={200: _STATISTICS},
)

series_schema = extend_schema(
    summary="A callout's progress per minute",
    description=(
        "One point per minute from `from` to `to` (both included, truncated to the minute, UTC when no offset is "
        "given): calls dialled, answered, busy, not answered, failed and errored in that minute, and participations "
        f"answered / given up so far. At most {selectors.SERIES_MAX_MINUTES} minutes a request; minutes older than "
        "SCFM_SERIES_RETENTION_DAYS are deleted (their points read 0)."
    ),
    parameters=[
        OpenApiParameter(
            "from",
            OpenApiTypes.DATETIME,
            description=f"ISO 8601 start; default: {selectors.SERIES_DEFAULT_MINUTES - 1} minutes before `to`.",
        ),
        OpenApiParameter("to", OpenApiTypes.DATETIME, description="ISO 8601 end; default: now."),
    ],
    responses={200: _SERIES},
)
