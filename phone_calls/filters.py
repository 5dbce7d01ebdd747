"""q[...] filters of phone calls (getting-started.md "Managing Phone Calls" / rest-api-v2.md), their callback events
and recordings."""

import django_filters

from contacts.filters import MsisdnFilter
from scfm.query.filters import (
    CsvFilter,
    JSONFilter,
    ResourceFilterSet,
    TimestampedFilterSet,
    comparison_filters,
    timestamp_filters,
)

from .models import PhoneCall, Recording, RemotePhoneCallEvent


class PhoneCallFilter(ResourceFilterSet):
    status = CsvFilter(field_name="status")
    msisdn = MsisdnFilter(field_name="msisdn")
    callout_id = CsvFilter(field_name="callout_id", integer=True)
    callout_participation_id = CsvFilter(field_name="callout_participation_id", integer=True)
    contact_id = CsvFilter(field_name="contact_id", integer=True)
    call_flow_logic = CsvFilter(field_name="call_flow_logic")
    remote_call_id = CsvFilter(field_name="remote_call_id")
    remote_status = CsvFilter(field_name="remote_status")
    remote_direction = CsvFilter(field_name="remote_direction")
    remote_error_message = CsvFilter(field_name="remote_error_message")
    duration = CsvFilter(field_name="duration", integer=True)
    remote_response = JSONFilter(field_name="remote_response")
    remote_queue_response = JSONFilter(field_name="remote_queue_response")
    remote_request_params = JSONFilter(field_name="remote_request_params")
    locals().update(comparison_filters("duration"))
    locals().update(timestamp_filters("remotely_queued_at"))

    class Meta:
        model = PhoneCall
        fields = []


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
