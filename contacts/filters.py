"""q[...] filters of contacts, and the msisdn filter every resource with a phone number uses."""

import django_filters

from scfm.query.filters import RawField, ResourceFilterSet, csv_values

from .models import Contact
from .phone_numbers import normalize_msisdn


class MsisdnFilter(django_filters.Filter):
    """Matches a phone number however it is written (`+252 66 234 5678` == `252662345678`); `a,b` matches either."""

    field_class = RawField

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        values = [normalize_msisdn(item) or item for item in csv_values(value)]
        return qs.filter(**{f"{self.field_name}__in": values})


class ContactFilter(ResourceFilterSet):
    msisdn = MsisdnFilter(field_name="msisdn")

    class Meta:
        model = Contact
        fields = []
