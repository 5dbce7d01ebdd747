from scfm.api.filters import MsisdnFilter, ResourceFilterSet

from .models import Contact


class ContactFilter(ResourceFilterSet):
    msisdn = MsisdnFilter(field_name="msisdn")

    class Meta:
        model = Contact
        fields = []
