"""Dialler benchmark in the deployment shape: real Celery workers + beat on Redis, PostgreSQL, the fake Twilio on
loopback.

    .venv/bin/python bench/dialer.py --calls 100000 [--workers 2 --concurrency 4 --rate 50 --pacing-seconds 30]

What runs: `--workers` x `celery -A scfm worker --concurrency N` and one `celery -A scfm beat` as subprocesses, on
the broker --broker (default redis://127.0.0.1:6379/9, flushed before and after) and the database of
DATABASE_URL (default postgres://postgres@127.0.0.1:5432/scfm_bench_h, created when missing, migrated). The fake
Twilio server (tests/fakes/fake_twilio.py) runs in this process on 127.0.0.1; each bench account uses
platform_provider_name=somleng with somleng_api_base_url pointing at it, so the workers' real twilio client dials it.
SCFM_PUBLIC_URL is http://127.0.0.1:9 (discard port): it only appears in the Url/StatusCallback the fake records and
is never called. Calls are left `remotely_queued` (no status callbacks), so each account's in-flight cap
(phone_call_queue_limit) is set to 10**9: the benchmark measures the dispatch path, not call completion.

Phases, each on its own account and callout, the calls bulk-created in SQL (INSERT ... SELECT generate_series for
contacts, participations and phone calls) and the callout started through callouts.services.callout_fire_event:

1. pacing off (max_calls_per_second=0), `--calls` calls: time from `start` to the first call received by the fake,
   and the sustained rate at which the fake receives calls (5th to 95th percentile of arrivals, and overall);
2. pacing at `--rate` calls/s for `--pacing-seconds`: calls received in each second, mean and stddev, and issue
   13's checks: the busiest second (<= rate + 1; also any sliding one-second window), the first second (<= rate),
   every 10-second window within 5 % of the rate.

Side by side (issue 13): run it on the other code first with `--column-out FILE --label NAME` (e.g. a checkout of
main: `PYTHONPATH=<checkout> python <checkout>/bench/dialer.py --column-out /tmp/before.json --label "before"`),
then here with `--before FILE`: dialer.json then holds both runs and dialer.md starts with a table of both.

Writes bench/results/dialer.json and dialer.md. Workers are killed (process groups) on exit, error or Ctrl-C; the
bench accounts and their rows are deleted unless --keep-data.
"""

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, ensure_database, write_results

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scfm_bench_h"
DEFAULT_BROKER = "redis://127.0.0.1:6379/9"
PUBLIC_URL = "http://127.0.0.1:9"  # discard port: recorded by the fake, never called
CALL_FLOW_LOGIC = "CallFlowLogic::HelloWorld"
BENCH_TAG = "dialer"

# The previous version of this benchmark (commit 975fc3a): tasks inline in one process, no broker, 5,000 calls.
INLINE_FIGURES = [
    "## Earlier: tasks inline in one process (no broker, no workers), 5,000 calls",
    "",
    "- start -> first call at the provider: 0.1254 s",
    "- pacing off: 5000 calls in 51.18 s = 97.7 calls/s (one process)",
    "- pacing at 20.0/s: 19.94 calls/s after the initial burst; per second: [39, 20, 20, 20, 20, 1]",
    "",
    "That run claimed and dialled in the benchmark's own process (CELERY_TASK_ALWAYS_EAGER), so it measured one "
    "process doing claim + Calls.create + record back to back, with no broker hop.",
    "",
]


class Workers:
    """The Celery worker and beat subprocesses, each in its own process group so that a kill reaches the pool."""

    def __init__(self, env: dict, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict | None = None) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "scfm", *args],
            cwd=ROOT,
            env=env or self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((name, process))

    def check(self) -> None:
        for name, process in self.processes:
            if process.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    def stop(self) -> None:
        for _name, process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _name, process in self.processes:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                pass
            try:  # the group: pool children that outlived their parent too
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=5)
        self.processes = []


def bulk_create_calls(cursor, account_id: int, callout_id: int, count: int) -> None:
    """`count` contacts, participations and created phone calls in one set-based statement."""
    cursor.execute(
        """
        WITH contacts AS (
            INSERT INTO contacts_contact (account_id, msisdn, metadata, created_at, updated_at)
            SELECT %(account)s, '+85510' || lpad(n::text, 7, '0'), '{}', now(), now()
            FROM generate_series(0, %(count)s - 1) AS n
            RETURNING id, msisdn
        ), participations AS (
            INSERT INTO callouts_calloutparticipation (callout_id, contact_id, msisdn, call_flow_logic, metadata,
                                                       answered, phone_calls_count, created_at, updated_at)
            SELECT %(callout)s, id, msisdn, %(flow)s, '{}', false, 1, now(), now() FROM contacts
            RETURNING id, contact_id, msisdn
        )
        INSERT INTO phone_calls_phonecall (account_id, callout_id, callout_participation_id, contact_id, msisdn,
                                           status, call_flow_logic, metadata, remote_response, remote_queue_response,
                                           remote_request_params, duration, lock_version, created_at, updated_at)
        SELECT %(account)s, %(callout)s, id, contact_id, msisdn, 'created', %(flow)s, '{}', '{}', '{}', '{}', 0, 0,
               now(), now()
        FROM participations ORDER BY id
        """,
        {"account": account_id, "callout": callout_id, "count": count, "flow": CALL_FLOW_LOGIC},
    )


def delete_bench_accounts(cursor) -> None:
    """Remove every account this benchmark created (a dedicated database, but stay within our own rows)."""
    cursor.execute("SELECT id FROM accounts_account WHERE metadata @> %s::jsonb", [json.dumps({"bench": BENCH_TAG})])
    ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return
    for statement in (
        "DELETE FROM phone_calls_phonecall WHERE account_id = ANY(%s)",
        "DELETE FROM callouts_calloutcount WHERE callout_id IN "
        "(SELECT id FROM callouts_callout WHERE account_id = ANY(%s))",
        "DELETE FROM callouts_calloutparticipation WHERE callout_id IN "
        "(SELECT id FROM callouts_callout WHERE account_id = ANY(%s))",
        "DELETE FROM callouts_calloutevent WHERE callout_id IN "
        "(SELECT id FROM callouts_callout WHERE account_id = ANY(%s))",
        "DELETE FROM callouts_callout WHERE account_id = ANY(%s)",
        "DELETE FROM contacts_contact WHERE account_id = ANY(%s)",
        "DELETE FROM phone_calls_dispatchstate WHERE account_id = ANY(%s)",
        "DELETE FROM accounts_account WHERE id = ANY(%s)",
    ):
        cursor.execute(statement, [ids])


# bench/statistics.py (another benchmark) shadows the standard library's module on this script's path
def mean(values: list) -> float:
    return sum(values) / len(values)


def pstdev(values: list) -> float:
    m = mean(values)
    return (sum((v - m) ** 2 for v in values) / len(values)) ** 0.5


def median(values: list) -> float:
    ordered, n = sorted(values), len(values)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def arrivals(fake, account_sid: str) -> list[float]:
    """Arrival times (monotonic) of the accepted call creates of one account, in order."""
    with fake._lock:
        return [
            r.at
            for r in fake.requests
            if r.account_sid == account_sid and r.method == "POST" and r.call_sid is None and r.status == 201
        ]


def per_second(times: list[float], origin: float) -> list[int]:
    counts = [0] * (int(times[-1] - origin) + 1 if times else 0)
    for at in times:
        counts[int(at - origin)] += 1
    return counts


def pacing_figures(times: list[float], rate: float) -> dict:
    """Issue 13's pacing checks: the busiest second (seconds counted from the first call, and any sliding one-second
    window), the first second, and every 10-second window's rate against the asked rate (full windows from the first
    call; the last, partial window is left out)."""
    if not times:
        return {}
    origin = times[0]
    counts = per_second(times, origin)
    sliding, j = 0, 0
    for i, at in enumerate(times):  # the most calls in any window [t, t + 1 s) starting at a call
        while times[j] < at - 1.0 + 1e-9:
            j += 1
        sliding = max(sliding, i - j + 1)
    full = [counts[k : k + 10] for k in range(0, len(counts) - 10 + 1, 10) if times[-1] - origin >= k + 10]
    window_rates = [sum(window) / 10 for window in full]
    deviations = [round(100 * (value - rate) / rate, 2) for value in window_rates]
    return {
        "max_second": max(counts),
        "max_sliding_second": sliding,
        "first_second": counts[0],
        "ten_second_window_rates": window_rates,
        "ten_second_window_deviation_percent": deviations,
        "worst_ten_second_deviation_percent": max((abs(d) for d in deviations), default=None),
        "no_second_above_rate_plus_1": max(counts) <= rate + 1,
        "first_second_at_most_rate": counts[0] <= rate,
        "every_ten_seconds_within_5_percent": bool(deviations) and all(abs(d) <= 5 for d in deviations),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100_000, help="calls in the pacing-off run (default 100,000)")
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=4, help="pool processes per worker (default 4)")
    parser.add_argument("--rate", type=float, default=50.0, help="max_calls_per_second of the pacing run")
    parser.add_argument("--pacing-seconds", type=int, default=30, help="length of the pacing run")
    parser.add_argument("--scheduler-interval", type=float, default=10.0, help="SCFM_SCHEDULER_INTERVAL (beat)")
    parser.add_argument("--broker", default=DEFAULT_BROKER)
    parser.add_argument("--stall-seconds", type=float, default=60.0, help="give up after this long with no call")
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up on a phase after this long")
    parser.add_argument("--keep-data", action="store_true", help="keep the bench accounts and their calls")
    parser.add_argument("--label", default="after", help="this run's column name (default: after)")
    parser.add_argument("--column-out", help="write only this run's figures (JSON) to this file, not bench/results")
    parser.add_argument("--before", help="a --column-out file of another run (e.g. main's code) to show beside this")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/dialer.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    if not args.broker.startswith("redis://127.0.0.1") and not args.broker.startswith("redis://localhost"):
        sys.exit("bench/dialer.py uses a Redis broker on loopback only")
    data_dir = Path(tempfile.mkdtemp(prefix="scfm-bench-dialer-"))
    env = {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": args.broker,
        "SCFM_PUBLIC_URL": PUBLIC_URL,
        "SCFM_SCHEDULER_INTERVAL": str(args.scheduler_interval),
        "SCFM_DATA_DIR": str(data_dir),
        "SCFM_LOG_LEVEL": "WARNING",  # no per-request twilio INFO lines in the workers
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_SETTINGS_MODULE": "scfm.settings",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    ensure_database(url)

    import django

    django.setup()
    import psycopg
    import redis
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Count

    from accounts.models import Account
    from callouts.models import Callout
    from callouts.services import callout_fire_event
    from phone_calls.models import PhoneCall
    from scfm.celery import app
    from tests.fakes.fake_twilio import FakeTwilio

    call_command("migrate", verbosity=0, interactive=False)
    broker = redis.Redis.from_url(args.broker)
    broker.flushdb()
    with connection.cursor() as cursor:
        delete_bench_accounts(cursor)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    fake = FakeTwilio(somleng=True).start()
    workers = Workers({**os.environ, **env}, data_dir)
    results: dict = {}
    try:
        for index in range(args.workers):
            workers.start(
                f"worker{index}",
                ["worker", "--concurrency", str(args.concurrency), "--loglevel", "WARNING", "-n", f"bench{index}@%h"],
            )
        workers.start("beat", ["beat", "--loglevel", "WARNING", "-s", str(data_dir / "celerybeat-schedule")])
        deadline = time.monotonic() + 120
        while len(app.control.ping(timeout=1.0)) < args.workers:
            workers.check()
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not answer a ping within 120 s")
        print(f"{args.workers} workers x concurrency {args.concurrency} + beat are up", flush=True)

        def account_with(calls: int, **settings) -> tuple[Account, Callout]:
            sid = f"{fake.account_sid[:-12]}{time.monotonic_ns() % 10**12:012d}"
            account = Account.objects.create(
                platform_provider_name="somleng",
                somleng_account_sid=sid,
                somleng_auth_token=fake.auth_token,
                somleng_api_base_url=fake.base_url,
                metadata={"bench": BENCH_TAG},
                settings={"from_phone_number": "1234", "phone_call_queue_limit": 10**9, **settings},
            )
            fake.add_account(sid, fake.auth_token)
            callout = Callout.objects.create(account=account, call_flow_logic=CALL_FLOW_LOGIC)
            began = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                bulk_create_calls(cursor, account.pk, callout.pk, calls)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE phone_calls_phonecall")
            print(f"  created {calls:,} calls in {time.perf_counter() - began:.1f} s", flush=True)
            return account, callout

        def run(account: Account, callout: Callout, calls: int, limit: float) -> tuple[float, list[float]]:
            """Start the callout through the service; wait until the fake has every call, a stall, or `limit`."""
            began = time.monotonic()
            with transaction.atomic():
                callout_fire_event(callout=callout, event="start")
            deadline = began + limit
            last_count, last_change = 0, began
            while True:
                time.sleep(0.5)
                workers.check()
                count = len(arrivals(fake, account.somleng_account_sid))
                now = time.monotonic()
                if count != last_count:
                    last_count, last_change = count, now
                if count >= calls or now > deadline or now - last_change > args.stall_seconds:
                    break
            with transaction.atomic():
                callout_fire_event(callout=Callout.objects.get(pk=callout.pk), event="stop")
            return began, arrivals(fake, account.somleng_account_sid)

        # 1. pacing off
        print(f"pacing off: {args.calls:,} calls", flush=True)
        account, callout = account_with(args.calls, max_calls_per_second=0)
        began, times = run(account, callout, args.calls, args.timeout)
        received = len(times)
        low, high = times[int(received * 0.05)], times[max(int(received * 0.95) - 1, 0)]
        seconds = per_second(times, times[0]) if times else []
        dials = fake.dials_by_phone_call_id()
        statuses = dict(PhoneCall.objects.filter(account=account).values_list("status").annotate(n=Count("id")))
        results["pacing_off"] = {
            "calls": args.calls,
            "received": received,
            "complete": received == args.calls,
            "start_to_first_call_seconds": round(times[0] - began, 4) if times else None,
            "start_to_last_call_seconds": round(times[-1] - began, 2) if times else None,
            "sustained_calls_per_second": round(int(received * 0.9) / (high - low), 1) if high > low else None,
            "overall_calls_per_second": round(received / (times[-1] - began), 1) if times else None,
            "per_second_min_median_max": [min(seconds), median(seconds), max(seconds)] if seconds else [],
            "dialled_twice": sum(1 for n in dials.values() if n > 1),
            "statuses_after": statuses,
            "calls_in_each_second": seconds,
        }
        print(json.dumps({k: v for k, v in results["pacing_off"].items() if k != "calls_in_each_second"}), flush=True)

        # 2. pacing accuracy
        calls = int(args.rate * args.pacing_seconds)
        print(f"pacing at {args.rate:g}/s: {calls:,} calls", flush=True)
        account, callout = account_with(calls, max_calls_per_second=args.rate)
        began, times = run(account, callout, calls, args.pacing_seconds * 3 + 60)
        counts = per_second(times, times[0]) if times else []
        steady = counts[1:-1]  # the first second holds the bucket's one-second burst; the last one is partial
        busy = [count for count in steady if count]  # seconds in which the dispatcher was running
        results["pacing"] = {
            "target_calls_per_second": args.rate,
            "calls": calls,
            "received": len(times),
            "start_to_first_call_seconds": round(times[0] - began, 4) if times else None,
            "seconds": round(times[-1] - times[0], 2) if times else None,
            "measured_calls_per_second": (
                round((len(times) - counts[0]) / (times[-1] - times[0] - 1), 2)
                if len(counts) > 2 and times[-1] - times[0] > 1
                else None
            ),
            "steady_seconds": len(steady),
            "per_second_mean": round(mean(steady), 2) if steady else None,
            "per_second_stddev": round(pstdev(steady), 2) if steady else None,
            "per_second_min_max": [min(steady), max(steady)] if steady else [],
            "idle_seconds": sum(1 for count in steady if count == 0),
            "busy_seconds_mean": round(mean(busy), 2) if busy else None,
            "busy_seconds_stddev": round(pstdev(busy), 2) if busy else None,
            **pacing_figures(times, args.rate),
            "calls_in_each_second": counts,
            "note": "seconds counted from the first call received; the last is partial; mean/stddev are over the"
            " seconds in between",
        }
        print(json.dumps({k: v for k, v in results["pacing"].items() if k != "calls_in_each_second"}), flush=True)
    finally:
        workers.stop()
        fake.stop()
        broker.flushdb()
        if not args.keep_data:
            with connection.cursor() as cursor:
                delete_bench_accounts(cursor)

    results.update(
        {
            "database": "postgresql " + psycopg.connect(url).execute("SHOW server_version").fetchone()[0],
            "broker": args.broker,
            "workers": args.workers,
            "concurrency": args.concurrency,
            "scheduler_interval_seconds": args.scheduler_interval,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        }
    )
    results["label"] = args.label
    if args.column_out:
        Path(args.column_out).write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.column_out}")
        return
    columns = {args.label: results}
    if args.before:
        before = json.loads(Path(args.before).read_text())
        columns = {before.get("label", "before"): before, **columns}
    write_results("dialer", columns, side_by_side(columns) + "\n" + markdown(results))


def side_by_side(columns: dict) -> str:
    """The figures of each run (e.g. main's code and this branch's) in one table, one column per run."""
    rows = [
        ("pacing off: calls received", "pacing_off", "received"),
        ("pacing off: dialled twice", "pacing_off", "dialled_twice"),
        ("pacing off: start -> first call (s)", "pacing_off", "start_to_first_call_seconds"),
        ("pacing off: sustained calls/s (5th-95th pct)", "pacing_off", "sustained_calls_per_second"),
        ("pacing off: overall calls/s", "pacing_off", "overall_calls_per_second"),
        ("pacing off: calls/s min / median / max", "pacing_off", "per_second_min_median_max"),
        ("paced: target calls/s", "pacing", "target_calls_per_second"),
        ("paced: first second (<= rate)", "pacing", "first_second"),
        ("paced: busiest second (<= rate + 1)", "pacing", "max_second"),
        ("paced: busiest sliding 1-s window", "pacing", "max_sliding_second"),
        ("paced: 10-s windows, calls/s", "pacing", "ten_second_window_rates"),
        ("paced: worst 10-s window vs rate (%, within 5)", "pacing", "worst_ten_second_deviation_percent"),
        ("paced: per-second mean", "pacing", "per_second_mean"),
        ("paced: per-second stddev", "pacing", "per_second_stddev"),
        ("load average at the end", None, "load_average_at_end"),
    ]
    names = list(columns)
    lines = ["# Dialler benchmark: side by side", "", "| figure | " + " | ".join(names) + " |"]
    lines.append("|---" * (len(names) + 1) + "|")
    for title, section, key in rows:
        cells = []
        for name in names:
            data = columns[name].get(section, {}) if section else columns[name]
            cells.append(str(data.get(key, "-")))
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown(r: dict) -> str:
    off, pacing = r["pacing_off"], r["pacing"]
    return "\n".join(
        [
            "# Dialler benchmark",
            "",
            f"Deployment shape: {r['workers']} `celery -A scfm worker` processes x concurrency {r['concurrency']} "
            f"plus one `celery -A scfm beat` (SCFM_SCHEDULER_INTERVAL={r['scheduler_interval_seconds']:g} s), "
            f"broker {r['broker']}, {r['database']}, the fake Twilio/Somleng server on 127.0.0.1 "
            f"(in the benchmark process), {r['cpus']} CPUs shared by all of it, Python {r['python']}. "
            "Calls are bulk-created in SQL; each callout is started through `callout_fire_event` (the kick path). "
            "Calls stay `remotely_queued` (no status callbacks), so phone_call_queue_limit is 10**9 and the in-flight "
            f"cap never binds. Load average at the end: {r['load_average_at_end']}. Produced by `bench/dialer.py`.",
            "",
            f"## Pacing off (max_calls_per_second=0), {off['calls']:,} calls",
            "",
            f"- received by the fake: {off['received']:,} of {off['calls']:,}; dialled twice: {off['dialled_twice']}",
            f"- start -> first call received: {off['start_to_first_call_seconds']} s",
            f"- sustained dispatch rate (5th-95th percentile of arrivals): {off['sustained_calls_per_second']} "
            f"calls/s; overall (start -> last call, {off['start_to_last_call_seconds']} s): "
            f"{off['overall_calls_per_second']} calls/s",
            f"- calls per second, min / median / max: {off['per_second_min_median_max']}",
            "",
            f"## Pacing at {pacing['target_calls_per_second']:g} calls/s, {pacing['calls']:,} calls",
            "",
            f"- start -> first call received: {pacing['start_to_first_call_seconds']} s",
            f"- after the first second: {pacing['measured_calls_per_second']} calls/s; per second over "
            f"{pacing['steady_seconds']} steady seconds: mean {pacing['per_second_mean']}, "
            f"stddev {pacing['per_second_stddev']}, min/max {pacing['per_second_min_max']}",
            f"- {pacing['idle_seconds']} of those seconds had no call at all; over the other seconds: mean "
            f"{pacing['busy_seconds_mean']}, stddev {pacing['busy_seconds_stddev']}",
            f"- issue 13's checks: first second {pacing.get('first_second')} (at most the rate: "
            f"{pacing.get('first_second_at_most_rate')}), busiest second {pacing.get('max_second')} (at most the rate "
            f"+ 1: {pacing.get('no_second_above_rate_plus_1')}; busiest sliding one-second window "
            f"{pacing.get('max_sliding_second')}), 10-second windows {pacing.get('ten_second_window_rates')} calls/s "
            f"(within 5 %: {pacing.get('every_ten_seconds_within_5_percent')})",
            f"- calls received in each second: {pacing['calls_in_each_second']}",
            "",
            "Idle seconds would show a gap in the dispatcher's hand-over: the kick on `start` holds the account's "
            "dispatch lease for SCFM_SCHEDULER_INTERVAL seconds and, when its time is up with calls still due, "
            "hands on to a fresh task (ticks arriving meanwhile make a single pass). Before that hand-on existed, "
            "a paced run could stall until the next tick.",
            "",
            *INLINE_FIGURES,
        ]
    )


if __name__ == "__main__":
    main()
