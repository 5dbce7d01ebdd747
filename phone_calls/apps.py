from django.apps import AppConfig


class PhoneCallsConfig(AppConfig):
    name = "phone_calls"

    def ready(self):
        from accounts.signals import account_provider_changed
        from scfm.metrics import scrape_collector_register

        from .dialling_pauses import account_provider_changed_receive
        from .metrics import callout_gauges

        account_provider_changed.connect(account_provider_changed_receive, dispatch_uid="dialling_pauses_probe_now")
        scrape_collector_register(callout_gauges)  # the business gauges of /metrics (phone_calls/metrics.py)
