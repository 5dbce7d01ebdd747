import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from callouts.management.task_options import (
    add_account_argument,
    env,
    env_int,
    env_json,
    resolve_account,
    tasks_inline,
)
from phone_calls.dispatch import CLAIM_BATCH_SIZE, phone_calls_claim
from phone_calls.selectors import due_phone_calls, phone_call_dialled_counts, phone_call_status_count
from phone_calls.services import due_phone_calls_request_params_default
from phone_calls.statuses import PhoneCallStatus

STRATEGIES = ("optimistic", "pessimistic")


def calls_to_enqueue(
    *,
    strategy: str,
    max_calls: int | None,
    due: int,
    waiting: int,
    pessimistic_min: int,
    max_per_period: int | None,
    in_period: int,
) -> int:
    """How many calls one run may dial (usage-and-tasks.md): optimistic = the maximum (or all due calls),
    pessimistic = the maximum less the calls awaiting completion (at least `pessimistic_min`), both capped by
    what is left of the per-period allowance."""
    if strategy == "pessimistic":
        limit = max((max_calls if max_calls is not None else due) - waiting, pessimistic_min)
    else:
        limit = max_calls if max_calls is not None else due
    if max_per_period is not None:
        limit = min(limit, max(max_per_period - in_period, 0))
    return max(min(limit, due), 0)


class Command(BaseCommand):
    help = "Dial due calls of running callouts now (task:enqueue_calls:run), with optimistic/pessimistic limits."

    def add_arguments(self, parser):
        add_account_argument(parser)
        parser.add_argument("--max-calls", type=int, default=env_int("ENQUEUE_CALLS_TASK_MAX_CALLS_TO_ENQUEUE"))
        parser.add_argument(
            "--strategy", choices=STRATEGIES, default=env("ENQUEUE_CALLS_TASK_ENQUEUE_STRATEGY", "optimistic")
        )
        parser.add_argument(
            "--pessimistic-min-calls",
            type=int,
            default=env_int("ENQUEUE_CALLS_TASK_PESSIMISTIC_MIN_CALLS_TO_ENQUEUE", 1),
        )
        parser.add_argument(
            "--max-calls-per-period", type=int, default=env_int("ENQUEUE_CALLS_TASK_MAX_CALLS_PER_PERIOD")
        )
        parser.add_argument(
            "--max-calls-per-period-hours",
            type=int,
            default=env_int("ENQUEUE_CALLS_TASK_MAX_CALLS_PER_PERIOD_HOURS", 24),
        )
        parser.add_argument("--timeout", type=float, default=60.0, help="give up waiting for pacing after N seconds")

    def handle(
        self,
        *args,
        account_id,
        max_calls,
        strategy,
        pessimistic_min_calls,
        max_calls_per_period,
        max_calls_per_period_hours,
        timeout,
        **options,
    ):
        if strategy not in STRATEGIES:
            raise CommandError(f"ENQUEUE_CALLS_TASK_ENQUEUE_STRATEGY must be one of {', '.join(STRATEGIES)}")
        account = resolve_account(account_id)
        now = timezone.now()
        default_params = env_json("ENQUEUE_CALLS_TASK_DEFAULT_SOMLENG_REQUEST_PARAMS", {})
        if default_params:
            due_phone_calls_request_params_default(account_id=account.pk, remote_request_params=default_params, now=now)
        counts = phone_call_dialled_counts(account=account, since=now - timedelta(hours=max_calls_per_period_hours))
        limit = calls_to_enqueue(
            strategy=strategy,
            max_calls=max_calls,
            due=due_phone_calls(account_id=account.pk, now=now).count(),
            waiting=counts.in_flight,
            pessimistic_min=pessimistic_min_calls,
            max_per_period=max_calls_per_period,
            in_period=counts.recently_queued,
        )
        dialled = 0
        deadline = time.monotonic() + timeout
        with tasks_inline():
            while dialled < limit and time.monotonic() < deadline:
                result = phone_calls_claim(account_id=account.pk, batch_size=min(limit - dialled, CLAIM_BATCH_SIZE))
                dialled += len(result.phone_call_ids)
                if not result.more:
                    break
                if result.wait:
                    time.sleep(min(result.wait, max(deadline - time.monotonic(), 0)))
        remotely_queued = phone_call_status_count(account=account, status=PhoneCallStatus.REMOTELY_QUEUED)
        self.stdout.write(f"enqueued {dialled} of {limit} allowed calls; {remotely_queued} calls remotely queued")
