"""q[...] filters of contacts, and the msisdn filter every resource with a phone number uses."""

import django_filters

from scfm.query.filters import QueryError, RawField, ResourceFilterSet, csv_values

from .models import Contact
from .phone_numbers import msisdn_or_error


class MsisdnFilter(django_filters.Filter):
    """Matches a phone number however it is written (`+252 66 234 5678` == `252662345678`, as
    contacts.phone_numbers reads it); `a,b` matches either, unless the whole value is one number
    (`85,512,345,678`). A value that is no phone number raises QueryError naming it and why (a 422)."""

    field_class = RawField

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        whole = msisdn_or_error(value)[0] if isinstance(value, str) else None
        values = [whole] if whole else []
        for item in [] if whole else csv_values(value):
            normalized, error = msisdn_or_error(item)
            if normalized is None:
                raise QueryError({self.field_name: [f"{item!r} {error}"]})
            values.append(normalized)
        return qs.filter(**{f"{self.field_name}__in": values})


class ContactFilter(ResourceFilterSet):
    msisdn = MsisdnFilter(field_name="msisdn")

    class Meta:
        model = Contact
        fields = []
