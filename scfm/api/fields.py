"""Serializer fields shared by every resource, and the base of every request body's serializer."""

from collections.abc import Mapping

from rest_framework import serializers

from scfm.metadata import MERGE_MODES
from scfm.query.params import unknown_names


class WriteSerializer(serializers.Serializer):
    """A request body's serializer: a top-level name it does not declare is a 422 naming it
    (`{"nickname": ["is not a known parameter"]}`, or `["is read-only"]` for a name in the context's
    `read_only_names`, e.g. a resource's `id` or a participation's `contact_id` on update), never silently ignored.
    Names inside its fields' values (metadata, settings, parameters) are the fields' business."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = unknown_names(data, [name for name, field in self.fields.items() if not field.read_only])
            read_only = self.context.get("read_only_names", ())
            if errors:
                raise serializers.ValidationError(
                    {name: ["is read-only"] if name in read_only else messages for name, messages in errors.items()}
                )
        return super().to_internal_value(data)


class EventSerializer(WriteSerializer):
    """`POST .../<entity>_events`: the event's name (which events exist is the service's business)."""

    event = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class HashField(serializers.JSONField):
    """A JSON object (form bodies give it with bracket keys: `metadata[name]=Alice`)."""

    default_error_messages = {"not_a_hash": "must be a hash"}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_a_hash")
        return value


class MetadataWriteSerializer(WriteSerializer):
    """metadata and metadata_merge_mode, accepted by every resource that has metadata."""

    metadata = HashField(required=False)
    metadata_merge_mode = serializers.ChoiceField(
        choices=MERGE_MODES,
        required=False,
        error_messages={"invalid_choice": "must be one of: merge, replace, deep_merge"},
    )
