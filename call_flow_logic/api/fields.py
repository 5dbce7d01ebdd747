"""The API's call_flow_logic field, accepted by accounts, callouts and phone calls."""

from rest_framework import serializers

from ..registry import is_registered


class CallFlowLogicField(serializers.CharField):
    """The name of a registered call flow (`CallFlowLogic::HelloWorld`); any other name is a 422."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not is_registered(value):
            raise serializers.ValidationError("is not included in the list")
        return value
