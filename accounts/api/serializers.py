from rest_framework import serializers

from call_flow_logic.api.fields import CallFlowLogicField
from scfm.api.fields import HashField, MetadataWriteSerializer, WriteSerializer
from scfm.errors import DomainError

from ..models import AccessToken, Account, Permission, PlatformProvider, User
from ..settings import validate_settings


class AccountReadSerializer(serializers.ModelSerializer):
    """Auth tokens are write-only: they are never returned."""

    phone_calls_count = serializers.IntegerField(read_only=True, default=0)
    contacts_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Account
        fields = [
            "id",
            "metadata",
            "settings",
            "twilio_account_sid",
            "somleng_account_sid",
            "permissions",
            "created_at",
            "updated_at",
            "call_flow_logic",
            "platform_provider_name",
            "somleng_api_host",
            "somleng_api_base_url",
            "phone_calls_count",
            "contacts_count",
        ]


class AccountWriteSerializer(MetadataWriteSerializer):
    settings = HashField(required=False)

    def validate_settings(self, value):
        try:
            validate_settings(value)
        except DomainError as error:
            raise serializers.ValidationError(error.errors["settings"]) from None
        return value

    call_flow_logic = CallFlowLogicField(required=False)
    platform_provider_name = serializers.ChoiceField(
        choices=PlatformProvider.choices,
        required=False,
        allow_null=True,
        error_messages={"invalid_choice": "is not included in the list"},
    )
    twilio_account_sid = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=255)
    somleng_account_sid = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=255)
    twilio_auth_token = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=255)
    somleng_auth_token = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=255)
    somleng_api_host = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=255)
    somleng_api_base_url = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=255)

    def validate(self, attrs):
        return {key: (None if value == "" else value) for key, value in attrs.items()}


class AccessTokenReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccessToken
        fields = ["id", "token", "created_at", "updated_at", "metadata", "permissions"]


class PermissionListField(serializers.ListField):
    child = serializers.ChoiceField(
        choices=Permission.values, error_messages={"invalid_choice": '"{input}" is not a valid permission'}
    )

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [item.strip() for item in data.split(",") if item.strip()]
        return super().to_internal_value(data)


class AccessTokenWriteSerializer(MetadataWriteSerializer):
    permissions = PermissionListField(required=False, allow_empty=True)
    account_id = serializers.IntegerField(required=False)
    account_sid = serializers.IntegerField(required=False, help_text="Legacy alias of account_id")


class AccessTokenUpdateSerializer(MetadataWriteSerializer):
    permissions = PermissionListField(required=False, allow_empty=True)


class UserReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "account_id", "metadata", "email", "created_at", "updated_at", "locale", "invitation_sent_at"]


class UserWriteSerializer(MetadataWriteSerializer):
    email = serializers.EmailField(error_messages={"required": "can't be blank", "invalid": "is invalid"})
    password = serializers.CharField(
        min_length=6, write_only=True, error_messages={"required": "can't be blank", "min_length": "is too short"}
    )
    locale = serializers.ChoiceField(choices=User._meta.get_field("locale").choices, required=False)
    account_id = serializers.IntegerField(required=False)


class UserUpdateSerializer(MetadataWriteSerializer):
    email = serializers.EmailField(required=False, error_messages={"invalid": "is invalid"})
    password = serializers.CharField(required=False, min_length=6, write_only=True)
    locale = serializers.ChoiceField(choices=User._meta.get_field("locale").choices, required=False)


class UserEventSerializer(WriteSerializer):
    event = serializers.ChoiceField(
        choices=["invite"], error_messages={"invalid_choice": "is not included in the list"}
    )
