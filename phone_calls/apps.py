from django.apps import AppConfig


class PhoneCallsConfig(AppConfig):
    name = "phone_calls"

    def ready(self):
        from accounts.signals import account_provider_changed

        from .dialling_pauses import account_provider_changed_receive

        account_provider_changed.connect(account_provider_changed_receive, dispatch_uid="dialling_pauses_probe_now")
