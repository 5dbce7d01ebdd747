import json

from django.core.management.base import BaseCommand

from batch_operations.models import BatchOperation
from batch_operations.services import batch_operation_create, batch_operation_fire_event
from callouts.management.task_options import (
    add_account_argument,
    add_callout_argument,
    env_json,
    resolve_account,
    resolve_callout,
    tasks_inline,
)
from callouts.services import callout_participations_set_metadata


class Command(BaseCommand):
    help = "Populate a callout with the account's contacts (task:callouts:populate), through a callout population."

    def add_arguments(self, parser):
        add_account_argument(parser)
        add_callout_argument(parser)
        parser.add_argument(
            "--contact-filter",
            default=None,
            help='contact filter as JSON, e.g. \'{"metadata": {"gender": "f"}}\' (default: everyone)',
        )
        parser.add_argument(
            "--metadata",
            default=None,
            help="JSON metadata for the new participations (env CALLOUTS_TASK_POPULATE_METADATA)",
        )

    def handle(self, *args, account_id, callout_id, contact_filter, metadata, **options):
        account = resolve_account(account_id)
        callout = resolve_callout(account, callout_id)
        participation_metadata = json.loads(metadata) if metadata else env_json("CALLOUTS_TASK_POPULATE_METADATA", {})
        parameters = {"contact_filter_params": json.loads(contact_filter)} if contact_filter else {}
        population = batch_operation_create(
            account=account, callout=callout, type=BatchOperation.Type.CALLOUT_POPULATION, parameters=parameters
        )
        with tasks_inline():
            batch_operation_fire_event(batch_operation=population, event="queue")
        population.refresh_from_db()
        if participation_metadata:
            callout_participations_set_metadata(callout_population=population, metadata=participation_metadata)
        self.stdout.write(
            f"callout {callout.pk}: population {population.pk} is {population.status}, "
            f"{population.processed_count} participations added"
        )
