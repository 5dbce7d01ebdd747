"""`q[...]` filters of remote phone call events and recordings."""

import django_filters

from scfm.query.filters import CsvFilter, JSONFilter, ResourceFilterSet, TimestampedFilterSet, comparison_filters

from .models import Recording, RemotePhoneCallEvent


class RemotePhoneCallEventFilter(ResourceFilterSet):
    details = JSONFilter(field_name="details")
    call_flow_logic = CsvFilter(field_name="call_flow_logic")
    remote_call_id = CsvFilter(field_name="remote_call_id")
    remote_direction = CsvFilter(field_name="remote_direction")
    phone_call_id = CsvFilter(field_name="phone_call_id", integer=True)
    call_duration = django_filters.NumberFilter(field_name="call_duration")
    locals().update(comparison_filters("call_duration"))

    class Meta:
        model = RemotePhoneCallEvent
        fields: list[str] = []


class RecordingFilter(TimestampedFilterSet):
    """Recordings have no metadata column: ids, duration and timestamps only."""

    external_recording_id = CsvFilter(field_name="external_recording_id")
    phone_call_id = CsvFilter(field_name="phone_call_id", integer=True)
    contact_id = CsvFilter(field_name="contact_id", integer=True)
    duration = django_filters.NumberFilter(field_name="duration")
    locals().update(comparison_filters("duration"))

    class Meta:
        model = Recording
        fields: list[str] = []
