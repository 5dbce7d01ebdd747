from rest_framework import serializers

from call_flow_logic.api.fields import CallFlowLogicField
from scfm.api.fields import HashField, MetadataWriteSerializer

from ..counters import SERIES_KEYS
from ..models import Callout, CalloutParticipation
from ..selectors import CALL_STATUS_COUNTS


class CalloutReadSerializer(serializers.ModelSerializer):
    # why the account's dialling is paused (the provider refuses the account: phone_calls/dialling_pauses.py)
    dialling_paused_reason = serializers.CharField(
        source="account.dialling_paused_reason", read_only=True, allow_null=True
    )

    class Meta:
        model = Callout
        fields = [
            "id",
            "status",
            "call_flow_logic",
            "metadata",
            "created_at",
            "updated_at",
            "account_id",
            "audio_url",
            "settings",
            "created_by_id",
            "dialling_paused_reason",
            "is_rehearsal",
            "rehearsal_of_id",
        ]
        # a rehearsal (batch_operations/rehearsals.py) is made by its own action, never by writing these
        read_only_fields = ["is_rehearsal", "rehearsal_of_id"]


class CalloutWriteSerializer(MetadataWriteSerializer):
    call_flow_logic = CallFlowLogicField(required=False, allow_blank=True)
    audio_url = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=2048)
    settings = HashField(required=False)


class CalloutParticipationReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalloutParticipation
        fields = [
            "id",
            "callout_id",
            "contact_id",
            "callout_population_id",
            "msisdn",
            "call_flow_logic",
            "metadata",
            "created_at",
            "updated_at",
            "answered",
            "phone_calls_count",
        ]


class CalloutParticipationUpdateSerializer(MetadataWriteSerializer):
    """`contact_id` is accepted and ignored: a participation's contact never changes."""

    # rest-api-current.txt's update example sends `contact_id` (another contact's) and answers 204, as the original
    # did, so the name is known on update and its value is dropped.

    msisdn = serializers.CharField(required=False, allow_blank=True)
    call_flow_logic = CallFlowLogicField(required=False, allow_blank=True)
    contact_id = serializers.IntegerField(required=False, allow_null=True)

    def validate(self, attrs):
        attrs.pop("contact_id", None)
        return attrs


class CalloutParticipationWriteSerializer(CalloutParticipationUpdateSerializer):
    def validate(self, attrs):
        return attrs


# Documentation only: the shapes callouts/selectors.py builds for callout statistics, for the OpenAPI schema (built
# from the same key lists, so they cannot drift apart).
def _counts(name: str, doc: str, keys, **fields):
    return type(
        name, (serializers.Serializer,), {"__doc__": doc, **fields, **{k: serializers.IntegerField() for k in keys}}
    )


CalloutStatisticsSerializer = _counts(
    "CalloutStatisticsSerializer",
    "A callout's statistics (rest-api-current.txt, Callout Statistics): counts from the callout's counters.",
    (
        "callout_participations",
        "callout_participations_remaining",
        "callout_participations_completed",
        "callout_participations_answered",
        "callout_participations_still_to_call",
        "callout_participations_given_up",
        "phone_calls",
        *CALL_STATUS_COUNTS,
    ),
    callout_status=serializers.ChoiceField(choices=Callout.Status.choices),
    dialling_paused_reason=serializers.CharField(
        allow_null=True,
        help_text="Why the account's dialling is paused (the provider refuses it); null while it dials.",
    ),
)
CalloutStatisticsPointSerializer = _counts(
    "CalloutStatisticsPointSerializer",
    "One minute of a callout's progress: the calls of that minute; participations as totals at its end.",
    SERIES_KEYS,
    minute=serializers.DateTimeField(),
)


class CalloutStatisticsSeriesSerializer(serializers.Serializer):
    """A callout's progress per minute: `from`, `to`, and every minute of the range, in order."""

    interval = serializers.ChoiceField(choices=["minute"])
    data = CalloutStatisticsPointSerializer(many=True)

    def get_fields(self):
        return {"from": serializers.DateTimeField(), "to": serializers.DateTimeField(), **super().get_fields()}
