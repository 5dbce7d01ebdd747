from datetime import timedelta

from django.core.management.base import BaseCommand

from callouts.management.task_options import add_account_argument, env_int, resolve_account
from phone_calls.polling import phone_call_fetch_remote
from phone_calls.selectors import phone_call_ids_awaiting_status


class Command(BaseCommand):
    help = "Fetch the status of calls awaiting completion from the provider (task:update_calls:run)."

    def add_arguments(self, parser):
        add_account_argument(parser)
        parser.add_argument("--max-calls", type=int, default=env_int("UPDATE_CALLS_TASK_MAX_CALLS_TO_FETCH"))
        parser.add_argument(
            "--min-age-seconds", type=int, default=env_int("PHONE_CALL_TIME_CONSIDERED_RECENTLY_CREATED_SECONDS", 60)
        )

    def handle(self, *args, account_id, max_calls, min_age_seconds, **options):
        account = resolve_account(account_id)
        waiting = phone_call_ids_awaiting_status(
            account=account, min_age=timedelta(seconds=min_age_seconds), limit=max_calls
        )
        fetched = sum(1 for phone_call_id in waiting.iterator() if phone_call_fetch_remote(phone_call_id=phone_call_id))
        self.stdout.write(f"updated {fetched} calls")
