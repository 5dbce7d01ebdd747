"""q[...] filters of callouts and callout participations."""

import django_filters
from django.db.models import Exists, OuterRef, Q, Subquery

from contacts.filters import MsisdnFilter
from scfm.query.filters import BooleanFilter, CsvField, CsvFilter, NestedFilter, ResourceFilterSet

from .models import Callout, CalloutParticipation


class CalloutFilter(ResourceFilterSet):
    status = CsvFilter(field_name="status")
    call_flow_logic = CsvFilter(field_name="call_flow_logic")

    class Meta:
        model = Callout
        fields = []


def _phone_calls():
    from phone_calls.models import PhoneCall

    return PhoneCall.objects.filter(callout_participation=OuterRef("pk"))


def _last_attempt_status():
    return Subquery(_phone_calls().order_by("-id").values("status")[:1])


class LastAttemptFilter(django_filters.Filter):
    """Participations whose latest phone call has one of the statuses (`failed,busy`); with `or_none`, also those
    that have no phone call yet."""

    field_class = CsvField

    def __init__(self, *args, or_none=False, **kwargs):
        self.or_none = or_none
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        condition = Q(last_attempt_status__in=value)
        if self.or_none:
            condition |= ~Exists(_phone_calls())
        return qs.annotate(last_attempt_status=_last_attempt_status()).filter(condition)


class CalloutParticipationFilter(ResourceFilterSet):
    callout_id = CsvFilter(field_name="callout_id", integer=True)
    contact_id = CsvFilter(field_name="contact_id", integer=True)
    callout_population_id = CsvFilter(field_name="callout_population_id", integer=True)
    call_flow_logic = CsvFilter(field_name="call_flow_logic")
    msisdn = MsisdnFilter(field_name="msisdn")
    answered = BooleanFilter(field_name="answered")
    has_phone_calls = BooleanFilter(
        field_name="has_phone_calls",
        apply=lambda qs, flag: qs.filter(Exists(_phone_calls()) if flag else ~Exists(_phone_calls())),
    )
    last_phone_call_attempt = LastAttemptFilter()
    no_phone_calls_or_last_attempt = LastAttemptFilter(or_none=True)
    callout_filter_params = NestedFilter("callouts.filters.CalloutFilter", field_name="callout")

    class Meta:
        model = CalloutParticipation
        fields = []
