from django.apps import AppConfig


class PhoneCallsConfig(AppConfig):
    name = "phone_calls"
