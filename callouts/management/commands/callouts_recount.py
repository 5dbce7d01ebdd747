from django.core.management.base import BaseCommand

from callouts.counters import callout_counts_recount, callout_counts_squash


class Command(BaseCommand):
    help = (
        "Recompute callout counters (statistics) from the participation and call rows, set-based; "
        "--callout-id for some callouts, every callout otherwise. Blocks writes to calls while it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--callout-id", type=int, action="append", dest="callout_ids")

    def handle(self, *args, callout_ids=None, **options):
        recounted = callout_counts_recount(callout_ids=callout_ids)
        callout_counts_squash()
        self.stdout.write(f"Recounted {recounted} callout(s)")
