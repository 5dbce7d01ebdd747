from rest_framework import serializers

from scfm.api.fields import HashField, MetadataWriteSerializer

from ..models import BatchOperation


class BatchOperationReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = BatchOperation
        fields = [
            "id",
            "callout_id",
            "parameters",
            "metadata",
            "status",
            "created_at",
            "updated_at",
            "account_id",
            "type",
            "processed_count",
            "started_at",
            "finished_at",
        ]


class BatchOperationUpdateSerializer(MetadataWriteSerializer):
    parameters = HashField(required=False)


class BatchOperationWriteSerializer(BatchOperationUpdateSerializer):
    type = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    callout_id = serializers.IntegerField(required=False, allow_null=True)


class CalloutPopulationReadSerializer(BatchOperationReadSerializer):
    """v1's callout population: a batch operation with its contact_filter_params shown at the top level."""

    contact_filter_params = serializers.SerializerMethodField()

    class Meta(BatchOperationReadSerializer.Meta):
        fields = [*BatchOperationReadSerializer.Meta.fields, "contact_filter_params"]

    def get_contact_filter_params(self, operation) -> dict:
        return (operation.parameters or {}).get("contact_filter_params") or {}


class CalloutPopulationUpdateSerializer(BatchOperationUpdateSerializer):
    contact_filter_params = HashField(required=False)


class CalloutPopulationWriteSerializer(CalloutPopulationUpdateSerializer):
    callout_id = serializers.IntegerField(required=False, allow_null=True)
