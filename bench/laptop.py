"""Laptop-mode benchmark: `manage.py serve` (what `make run` runs) on SQLite and the embedded file-system broker.

    .venv/bin/python bench/laptop.py [--contacts 1000 --concurrency 4 --limit 300]

What runs: `manage.py serve` on a free port with a fresh temporary SCFM_DATA_DIR (SQLite database, broker folder,
beat schedule), SCFM_SCHEDULER_INTERVAL=1, SCFM_WORKER_CONCURRENCY=--concurrency. This process opens the same SQLite
database and broker folder (same environment) to arrange the run and watch it:

1. an account on the simulator provider with pacing off (max_calls_per_second=0), simulator_delay_seconds=1,
   retry_backoff_seconds=10, the default outcome mix (70% completed, 10% busy / no-answer / failed each) and the
   default 3 calls per participation;
2. `--contacts` contacts, a callout, a CalloutPopulation batch operation queued and the callout started through the
   services (their kicks go through the broker to serve's worker);
3. every 0.5 s: participations settled (every call of it terminal: answered, or retries used up), call statuses,
   and the broker's depth (messages ready in the queue folder, taken but unacknowledged, quarantined);
4. `--kill-at` seconds after the start, `kill -9` of the Celery worker's main process (serve restarts it and the
   broker hands the dead worker's messages to the new one); `--truncate-at` seconds after the start, the newest
   message file in the queue folder is cut in half (the worker quarantines it and goes on);
5. done when every participation is settled or after `--limit` seconds; then SIGTERM to serve, timing its stop
   and checking that none of its processes is left.

Also (first, in this process): the broker candidates moving `--messages` small messages (publish, then consume and
acknowledge) with kombu: the stock file-system transport, scfm.broker's, and kombu's SQLAlchemy transport on SQLite
when SQLAlchemy is installed (it is not a dependency).

Writes bench/results/laptop.json and laptop.md.
"""

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, write_results

CALL_FLOW_LOGIC = "CallFlowLogic::HelloWorld"

NOTES = [
    "## Reading",
    "",
    "- A truncated message file loses that one task: the worker quarantines the file and goes on. A lost",
    "  `queue_remote_call` is sent again by the scheduler's sweep of calls `queued` but never dialled (after",
    "  LOST_QUEUED_AFTER, now 1 min); a lost `simulate_call_outcome` only delays its call: the simulator's",
    "  fetch_call answers the outcome once it is overdue and the stale-status poll asks it about its calls 30 s",
    "  after acceptance (`SimulatorProvider.stale_status_after`).",
    "- `kill -9` of the worker: serve restarts it within a second and the broker moves the dead worker's taken",
    "  messages (ETA tasks included) back to the queue. Celery's pool children die with their parent, so a call",
    "  stamped for dialling whose answer was not yet recorded stays `queued`: a simulator call is dialled again by",
    "  the sweep a minute later (the simulator dials nobody); a real provider's call is never dialled twice and",
    "  expires after an hour.",
    "- What bounds dialling (py-spy over serve and its children, `--subprocesses`): the worker's pool children",
    "  spend most of their samples in the two dialling transactions and the outcome's transaction on SQLite, ~15%",
    "  of all samples waiting in `BEGIN IMMEDIATE` for SQLite's one write lock (held longer when its holder is",
    "  descheduled on a loaded machine), ~5% opening and closing a database connection per task, ~10% in the",
    "  prefork pool's pipes; before this run kombu's consumer loop also slept `polling_interval` (50 ms) after",
    "  nearly every task (its prefetch of 1 x concurrency was full), which capped the worker at ~60 tasks/s",
    "  (two tasks a call) whatever the CPU: scfm/broker.py now waits for the acknowledgement instead.",
    "- The 2 CPUs are shared with other helpers' test suites and benchmarks: the load average and the CPU seconds",
    "  serve's processes got are recorded with the run; calls/s scale with that share.",
    "",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> dict[int, str]:
    """pid -> command line of every descendant of `pid` (Linux /proc)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if fields[0] != "Z":
                table[int(entry.name)] = (int(fields[1]), command)
    found, frontier = {}, {pid}
    while frontier:
        frontier = {p for p, (parent, _) in table.items() if parent in frontier and p not in found}
        found.update({p: table[p][1] for p in frontier})
    return found


def cpu_seconds(pids) -> dict[int, float]:
    """pid -> CPU seconds (user + system) it has used so far, for those of `pids` still alive."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def broker_candidates(messages: int) -> dict:
    """Publish, then consume + ack, `messages` messages through each candidate transport; messages/s."""
    from kombu import Connection, Exchange, Queue

    def run(url: str, transport: str | None, options: dict) -> dict:
        queue = Queue("bench", Exchange("bench", "direct"), routing_key="bench")
        with Connection(url, transport=transport, transport_options=options) as conn:
            producer = conn.Producer()
            began = time.perf_counter()
            for n in range(messages):
                producer.publish({"n": n}, exchange=queue.exchange, routing_key="bench", declare=[queue])
            published = time.perf_counter()
            got = []

            def on_message(body, message):
                got.append(body)
                message.ack()

            with conn.Consumer(queue, callbacks=[on_message], prefetch_count=4):
                while len(got) < messages:
                    conn.drain_events(timeout=10)
            consumed = time.perf_counter()
        return {
            "publish_per_second": round(messages / (published - began)),
            "consume_ack_per_second": round(messages / (consumed - published)),
        }

    def folders() -> dict:
        root = Path(tempfile.mkdtemp(prefix="scfm-bench-broker-"))
        for sub in ("queue", "control", "processed"):
            (root / sub).mkdir()
        return {
            "data_folder_in": str(root / "queue"),
            "data_folder_out": str(root / "queue"),
            "control_folder": str(root / "control"),
            "processed_folder": str(root / "processed"),
            "polling_interval": 0.05,
        }

    results = {
        "filesystem (kombu, stock)": run("filesystem://", None, folders()),
        "filesystem (scfm.broker)": run("filesystem://", "scfm.broker:Transport", folders()),
    }
    try:
        import sqlalchemy  # noqa: F401
    except ImportError:
        results["sqla+sqlite (kombu)"] = {"skipped": "SQLAlchemy is not installed"}
    else:
        # its transport options go to create_engine(), so polling_interval cannot even be set
        path = Path(tempfile.mkdtemp(prefix="scfm-bench-sqla-")) / "broker.sqlite3"
        results["sqla+sqlite (kombu)"] = run(f"sqla+sqlite:///{path}", None, {})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4, help="SCFM_WORKER_CONCURRENCY (default 4)")
    parser.add_argument("--limit", type=float, default=300.0, help="give up after this many seconds (default 300)")
    parser.add_argument("--kill-at", type=float, default=15.0, help="kill -9 the worker this long after the start")
    parser.add_argument("--truncate-at", type=float, default=25.0, help="truncate a message file at this time")
    parser.add_argument("--messages", type=int, default=2000, help="messages per broker candidate")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="scfm-bench-laptop-"))
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(
        SCFM_DATA_DIR=str(data_dir),
        SCFM_SCHEDULER_INTERVAL="1",
        SCFM_WORKER_CONCURRENCY=str(args.concurrency),
        SCFM_LOG_LEVEL="WARNING",
        CELERY_TASK_ALWAYS_EAGER="false",
        DJANGO_SETTINGS_MODULE="scfm.settings",
    )
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction
    from django.db.models import Count, Exists, OuterRef

    print("broker candidates ...", flush=True)
    candidates = broker_candidates(args.messages)
    for name, figures in candidates.items():
        print(f"  {name}: {figures}", flush=True)

    port = free_port()
    log = data_dir / "serve.log"
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    results: dict = {}
    try:
        deadline = time.monotonic() + 120
        while "Super-admin access token" not in log.read_text(errors="replace"):
            if serve.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)

        from accounts.models import Account
        from batch_operations.services import batch_operation_create, batch_operation_fire_event
        from callouts.models import Callout, CalloutParticipation
        from callouts.services import callout_fire_event
        from contacts.models import Contact
        from phone_calls.models import TERMINAL_STATUSES, PhoneCall
        from scfm.broker import queue_depth

        account = Account.objects.create(
            metadata={"bench": "laptop"},
            platform_provider_name="simulator",
            settings={
                **Account._meta.get_field("settings").default(),
                "from_phone_number": "1234",
                "max_calls_per_second": 0,
                "simulator_delay_seconds": 1,
                "retry_backoff_seconds": 10,
            },
        )
        Contact.objects.bulk_create(
            Contact(account=account, msisdn=f"+8551{n:07d}", metadata={}) for n in range(args.contacts)
        )
        callout = Callout.objects.create(account=account, call_flow_logic=CALL_FLOW_LOGIC)
        load_at_start = [round(load, 1) for load in os.getloadavg()]
        began = time.monotonic()
        with transaction.atomic():
            population = batch_operation_create(
                account=account, callout=callout, type="BatchOperation::CalloutPopulation", parameters={}
            )
            batch_operation_fire_event(batch_operation=population, event="queue")
            callout_fire_event(callout=callout, event="start")
        print(f"callout of {args.contacts:,} contacts started", flush=True)

        live = PhoneCall.objects.filter(callout_participation=OuterRef("pk")).exclude(status__in=TERMINAL_STATUSES)
        participations = CalloutParticipation.objects.filter(callout=callout)
        broker_dir = settings.BROKER_DIR
        samples, events = [], []
        cpu_used: dict[int, float] = {}  # pid -> CPU seconds last seen (a dead process keeps its last figure)
        killed = truncated = False
        settled = 0
        while time.monotonic() - began < args.limit:
            time.sleep(0.5)
            now = time.monotonic() - began
            if serve.poll() is not None:
                raise RuntimeError(f"serve exited:\n{log.read_text(errors='replace')[-3000:]}")
            if not killed and now >= args.kill_at:
                workers = [
                    pid for pid, command in children(serve.pid).items() if "celery" in command and " worker " in command
                ]
                main_worker = min(workers, key=lambda pid: pid)  # the pool's parent was started first
                os.kill(main_worker, signal.SIGKILL)
                events.append({"at": round(now, 1), "event": f"kill -9 celery worker {main_worker}"})
                print(f"  {now:.1f}s kill -9 worker {main_worker}", flush=True)
                killed = True
            if not truncated and now >= args.truncate_at:
                files = sorted((broker_dir / "queue").glob("*.msg"))
                if files:
                    try:
                        content = files[-1].read_bytes()
                        task = json.loads(content)["headers"]["task"]
                        with open(files[-1], "r+b") as file:
                            file.truncate(len(content) // 2)
                    except (OSError, ValueError, KeyError):
                        continue  # taken by the worker meanwhile: try another one
                    events.append(
                        {"at": round(now, 1), "event": f"truncated a message file of {task} to half its length"}
                    )
                    print(f"  {now:.1f}s truncated {files[-1].name}", flush=True)
                    truncated = True
            total = participations.count()
            settled = participations.annotate(live=Exists(live)).filter(live=False).count() if total else 0
            statuses = dict(PhoneCall.objects.filter(account=account).values_list("status").annotate(n=Count("id")))
            depth = queue_depth(broker_dir)
            cpu_used.update(cpu_seconds([serve.pid, *children(serve.pid)]))
            samples.append(
                {
                    "t": round(now, 1),
                    "participations": total,
                    "settled": settled,
                    **depth,
                    **statuses,
                    "cpu_seconds": round(sum(cpu_used.values()), 2),
                    "load_1min": round(os.getloadavg()[0], 1),
                }
            )
            if len(samples) % 10 == 0:
                print(f"  {now:5.1f}s settled {settled}/{total} broker {depth} calls {statuses}", flush=True)
            if total == args.contacts and settled == total:
                break
        finished = time.monotonic() - began

        dialled = sorted(
            PhoneCall.objects.filter(account=account, dispatched_at__isnull=False).values_list(
                "dispatched_at", flat=True
            )
        )
        first_wave = dialled[: args.contacts]
        low, high = first_wave[int(len(first_wave) * 0.05)], first_wave[int(len(first_wave) * 0.95) - 1]
        origin = dialled[0]
        per_second = [0] * (int((dialled[-1] - origin).total_seconds()) + 1)
        for at in dialled:
            per_second[int((at - origin).total_seconds())] += 1
        busy_seconds = [count for count in per_second if count]
        statuses = dict(PhoneCall.objects.filter(account=account).values_list("status").annotate(n=Count("id")))
        dialled_twice = (
            PhoneCall.objects.filter(account=account)
            .values("callout_participation")
            .annotate(n=Count("id"))
            .filter(n__gt=3)
            .count()
        )
        stuck = list(
            PhoneCall.objects.filter(account=account)
            .exclude(status__in=TERMINAL_STATUSES)
            .values("id", "status", "dispatched_at", "updated_at")
        )
        settled_at = {
            f"{int(share * 1000) / 10:g}%": next(
                (sample["t"] for sample in samples if sample["settled"] >= share * args.contacts), None
            )
            for share in (0.5, 0.9, 0.99, 0.998, 1.0)
        }
        results["callout"] = {
            "contacts": args.contacts,
            "all_settled": settled == args.contacts,
            "settled": settled,
            "seconds_to_settle": round(finished, 1),
            "seconds_until_settled_share": settled_at,
            "calls_not_settled": [
                {key: str(value) if key.endswith("_at") else value for key, value in call.items()} for call in stuck
            ],
            "calls": sum(statuses.values()),
            "statuses": statuses,
            "first_wave_calls_per_second_p5_p95": round(int(len(first_wave) * 0.9) / (high - low).total_seconds(), 1),
            "dials_per_busy_second_median_max": [statistics.median(busy_seconds), max(busy_seconds)],
            "participations_with_more_than_3_calls": dialled_twice,
            "broker_max_ready": max(sample["ready"] for sample in samples),
            "broker_max_unacked": max(sample["unacked"] for sample in samples),
            "broker_ready_at_end": samples[-1]["ready"],
            "quarantined_files": samples[-1]["corrupt"],
            "events": events,
            "dials_in_each_second": per_second,
            "cpu_seconds_used_by_serve": samples[-1]["cpu_seconds"],
            "cpu_ms_per_call": round(1000 * samples[-1]["cpu_seconds"] / max(sum(statuses.values()), 1), 1),
            "load_1min_min_median_max": [
                min(sample["load_1min"] for sample in samples),
                statistics.median(sample["load_1min"] for sample in samples),
                max(sample["load_1min"] for sample in samples),
            ],
        }
        results["samples"] = samples
        results["load_average_1_5_15_at_start"] = load_at_start
    finally:
        stop_began = time.monotonic()
        family = children(serve.pid)
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=15)
        except subprocess.TimeoutExpired:
            serve.kill()
        stop_seconds = time.monotonic() - stop_began
        time.sleep(0.5)
        left = [pid for pid in family if Path(f"/proc/{pid}").exists()]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        restarts = log.read_text(errors="replace").count("restarting it")
    results["stop"] = {"seconds": round(stop_seconds, 2), "processes_left": len(left), "serve_restarts": restarts}
    results["broker_candidates"] = candidates
    results["environment"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_1_5_15_at_end": [round(load, 1) for load in os.getloadavg()],
        "concurrency": args.concurrency,
        "scheduler_interval": 1,
        "database": "sqlite",
        "broker": "scfm.broker (file system)",
    }
    callout = results.get("callout", {})
    lines = [
        "# Laptop mode (`make run`): SQLite + the embedded file-system broker",
        "",
        f"`.venv/bin/python bench/laptop.py --contacts {args.contacts} --concurrency {args.concurrency}` on "
        f"{os.cpu_count()} CPUs shared with other jobs (load average at the end: "
        f"{results['environment']['load_average_1_5_15_at_end']}), Python {platform.python_version()}. "
        "SCFM_SCHEDULER_INTERVAL=1, pacing off, simulator delay 1 s, retry back-off 10 s, 3 calls per participation.",
        "",
        "## Broker candidates (kombu, small messages, one process)",
        "",
        "| transport | publish/s | consume+ack/s |",
        "|---|---|---|",
        *[
            f"| {name} | {figures.get('publish_per_second', figures.get('skipped'))} | "
            f"{figures.get('consume_ack_per_second', '')} |"
            for name, figures in candidates.items()
        ],
        "",
        "## A simulated callout",
        "",
        f"- {callout.get('contacts')} contacts: all settled: **{callout.get('all_settled')}** "
        f"({callout.get('settled')}) in **{callout.get('seconds_to_settle')} s** from `start` (population included)",
        f"- seconds from `start` until this share of participations had settled: "
        f"{callout.get('seconds_until_settled_share')}",
        f"- calls left unsettled at the end: {callout.get('calls_not_settled')}",
        f"- {callout.get('calls')} calls; statuses {callout.get('statuses')}",
        f"- dialling: **{callout.get('first_wave_calls_per_second_p5_p95')} calls/s** over the first attempts (5th "
        f"to 95th percentile of dispatch stamps); dials per busy second median/max "
        f"{callout.get('dials_per_busy_second_median_max')}",
        f"- broker depth (sampled every 0.5 s): at most {callout.get('broker_max_ready')} ready and "
        f"{callout.get('broker_max_unacked')} taken-unacknowledged messages; {callout.get('broker_ready_at_end')} "
        f"ready at the end; {callout.get('quarantined_files')} file(s) quarantined",
        f"- participations with more than 3 calls: {callout.get('participations_with_more_than_3_calls')}",
        f"- events: {callout.get('events')}; serve restarted a child {results['stop']['serve_restarts']} time(s)",
        f"- load average (1 min) during the run, min/median/max: {callout.get('load_1min_min_median_max')} (at the "
        f"start: {results.get('load_average_1_5_15_at_start')}); serve's processes used "
        f"{callout.get('cpu_seconds_used_by_serve')} CPU seconds, {callout.get('cpu_ms_per_call')} ms per call "
        "(start-up included)",
        f"- SIGTERM to serve: stopped in {results['stop']['seconds']} s, {results['stop']['processes_left']} "
        "process(es) left behind",
        "",
        *NOTES,
    ]
    write_results("laptop", results, "\n".join(lines))


if __name__ == "__main__":
    main()
