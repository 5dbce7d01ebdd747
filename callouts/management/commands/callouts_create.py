import json

from django.core.management.base import BaseCommand, CommandError

from call_flow_logic.registry import is_registered
from callouts.management.task_options import add_account_argument, env, env_json, resolve_account
from callouts.services import callout_create


class Command(BaseCommand):
    help = "Create a callout (task:callouts:create) and print its id."

    def add_arguments(self, parser):
        add_account_argument(parser)
        parser.add_argument("--metadata", default=None, help="JSON metadata (env CALLOUTS_TASK_CREATE_METADATA)")
        parser.add_argument("--call-flow-logic", default=env("CALLOUTS_TASK_CREATE_CALL_FLOW_LOGIC"))
        parser.add_argument("--audio-url", default=env("CALLOUTS_TASK_CREATE_AUDIO_URL"))

    def handle(self, *args, account_id, metadata, call_flow_logic, audio_url, **options):
        account = resolve_account(account_id)
        try:
            metadata = json.loads(metadata) if metadata else env_json("CALLOUTS_TASK_CREATE_METADATA", {})
        except ValueError as error:
            raise CommandError(f"--metadata is not valid JSON: {error}") from None
        if call_flow_logic and not is_registered(call_flow_logic):
            raise CommandError(f"call flow logic {call_flow_logic!r} is not registered")
        callout = callout_create(
            account=account, metadata=metadata, call_flow_logic=call_flow_logic, audio_url=audio_url
        )
        self.stdout.write(str(callout.pk))
