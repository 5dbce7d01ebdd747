from rest_framework import serializers

from call_flow_logic.api.fields import CallFlowLogicField
from scfm.api.fields import HashField, MetadataWriteSerializer

from ..models import Callout, CalloutParticipation


class CalloutReadSerializer(serializers.ModelSerializer):
    # why the account's dialling is paused (the provider refuses the account: phone_calls/dialling_pauses.py)
    dialling_paused_reason = serializers.CharField(source="account.dialling_paused_reason", read_only=True)

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
    """A participation's contact never changes. rest-api-current.txt's update example sends `contact_id` (another
    contact's) and answers 204, as the original did, so the name is known on update and its value is dropped."""

    msisdn = serializers.CharField(required=False, allow_blank=True)
    call_flow_logic = CallFlowLogicField(required=False, allow_blank=True)
    contact_id = serializers.IntegerField(required=False, allow_null=True)

    def validate(self, attrs):
        attrs.pop("contact_id", None)
        return attrs


class CalloutParticipationWriteSerializer(CalloutParticipationUpdateSerializer):
    def validate(self, attrs):
        return attrs
