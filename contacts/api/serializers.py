from rest_framework import serializers

from scfm.api.fields import MetadataWriteSerializer

from ..models import Contact


class ContactReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "msisdn", "metadata", "created_at", "updated_at", "account_id"]


class ContactWriteSerializer(MetadataWriteSerializer):
    msisdn = serializers.CharField(error_messages={"required": "can't be blank", "blank": "can't be blank"})


class ContactUpdateSerializer(MetadataWriteSerializer):
    msisdn = serializers.CharField(required=False)
