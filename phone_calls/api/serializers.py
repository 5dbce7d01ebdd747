from rest_framework import serializers

from call_flow_logic.api.fields import CallFlowLogicField
from scfm.api.fields import HashField, MetadataWriteSerializer

from ..models import PhoneCall, Recording, RemotePhoneCallEvent
from ..remote_request_params import remote_request_params_errors


class PhoneCallReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = PhoneCall
        fields = [
            "id",
            "callout_participation_id",
            "contact_id",
            "create_batch_operation_id",
            "queue_batch_operation_id",
            "queue_remote_fetch_batch_operation_id",
            "status",
            "msisdn",
            "remote_call_id",
            "remote_status",
            "remote_direction",
            "remote_error_message",
            "metadata",
            "remote_response",
            "remote_request_params",
            "remote_queue_response",
            "call_flow_logic",
            "remotely_queued_at",
            "created_at",
            "updated_at",
            "duration",
            "lock_version",
            "account_id",
            "remote_status_fetch_queued_at",
            "callout_id",
        ]


class RemoteRequestParamsField(HashField):
    """Parameters for Twilio's calls.create, by their lowercase underscored names."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        errors = remote_request_params_errors(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value


class PhoneCallWriteSerializer(MetadataWriteSerializer):
    remote_request_params = RemoteRequestParamsField(required=False)
    call_flow_logic = CallFlowLogicField(required=False)


class RemotePhoneCallEventReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = RemotePhoneCallEvent
        fields = [
            "id",
            "phone_call_id",
            "details",
            "metadata",
            "remote_call_id",
            "remote_direction",
            "call_flow_logic",
            "created_at",
            "updated_at",
            "call_duration",
        ]


class RecordingReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Recording
        fields = [
            "id",
            "phone_call_id",
            "account_id",
            "contact_id",
            "external_recording_id",
            "external_recording_url",
            "duration",
            "created_at",
            "updated_at",
        ]
