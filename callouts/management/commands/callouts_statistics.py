from django.core.management.base import BaseCommand

from callouts.management.task_options import (
    add_account_argument,
    add_callout_argument,
    resolve_account,
    resolve_callout,
)
from callouts.selectors import callout_statistics


class Command(BaseCommand):
    help = "Print a callout's statistics (task:callouts:statistics)."

    def add_arguments(self, parser):
        add_account_argument(parser)
        add_callout_argument(parser)

    def handle(self, *args, account_id, callout_id, **options):
        callout = resolve_callout(resolve_account(account_id), callout_id)
        statistics = callout_statistics(callout=callout)
        width = max(len(key) for key in statistics)
        self.stdout.write(f"Callout {callout.pk}")
        for key, value in statistics.items():
            self.stdout.write(f"  {key.ljust(width)}  {value}")
