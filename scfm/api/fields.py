"""Serializer fields shared by every resource."""

from rest_framework import serializers

from scfm.metadata import MERGE_MODES


class HashField(serializers.JSONField):
    """A JSON object (form bodies give it with bracket keys: `metadata[name]=Alice`)."""

    default_error_messages = {"not_a_hash": "must be a hash"}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_a_hash")
        return value


class MetadataWriteSerializer(serializers.Serializer):
    """metadata and metadata_merge_mode, accepted by every resource that has metadata."""

    metadata = HashField(required=False)
    metadata_merge_mode = serializers.ChoiceField(
        choices=MERGE_MODES,
        required=False,
        error_messages={"invalid_choice": "must be one of: merge, replace, deep_merge"},
    )
