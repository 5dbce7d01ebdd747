from django.core.management.base import BaseCommand, CommandError

from callouts.management.task_options import (
    add_account_argument,
    add_callout_argument,
    env,
    resolve_account,
    resolve_callout,
)
from callouts.services import CALLOUT_EVENTS, callout_fire_event
from scfm.errors import DomainError


class Command(BaseCommand):
    help = "Start, stop, pause or resume a callout (task:callouts:run)."

    def add_arguments(self, parser):
        add_account_argument(parser)
        add_callout_argument(parser)
        parser.add_argument(
            "--action",
            default=env("CALLOUTS_TASK_ACTION"),
            choices=CALLOUT_EVENTS,
            help="start|stop|pause|resume (env CALLOUTS_TASK_ACTION)",
        )

    def handle(self, *args, account_id, callout_id, action, **options):
        if not action:
            raise CommandError("pass --action or set CALLOUTS_TASK_ACTION to start|stop|pause|resume")
        callout = resolve_callout(resolve_account(account_id), callout_id)
        try:
            callout = callout_fire_event(callout=callout, event=action)
        except DomainError:
            raise CommandError(f"cannot {action} callout {callout.pk}: it is {callout.status}") from None
        self.stdout.write(f"callout {callout.pk} is {callout.status}")
