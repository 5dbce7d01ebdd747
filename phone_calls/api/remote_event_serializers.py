from rest_framework import serializers

from ..models import Recording, RemotePhoneCallEvent


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
