"""End to end: a callout to N contacts through every real part, the provider faked as a separate process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scfm_bench_e2e \
        .venv/bin/python bench/callout_e2e.py [--contacts 100000] [--broker redis://127.0.0.1:6379/9]

What runs, each a process of its own on this machine:
- gunicorn (`scfm.wsgi`, 2 gthread workers x 4 threads, as `manage.py serve` runs it) serving the webhooks at
  SCFM_PUBLIC_URL=http://127.0.0.1:--port;
- `--workers` x `celery -A scfm worker --concurrency N` and one `celery -A scfm beat` on the Redis broker;
- bench/fake_provider.py: the Calls API the workers' real twilio client dials (Somleng mode), which after a ring
  time answers 70 % of the calls (fetching their voice `Url`, then hanging up after a talk time) and ends the rest
  busy / no-answer / failed, posting each call's terminal status callback signed with the twilio library's
  RequestValidator to the real webhook;
- PostgreSQL (the database of DATABASE_URL, created when missing, migrated, and wiped: use a bench database).

Steps: N contacts (SQL), one somleng account (phone_call_queue_limit 2,000, pacing off, 3 attempts per contact,
retry busy / not answered / failed after --retry-backoff seconds), a callout populated by a real BatchOperation,
then `start` through callouts.services; the bench waits until every participation is settled (answered, or given
up with no retry to come). Reports completed calls per second, callbacks per second, webhook latency (p50/p99, as
the provider saw it), start-to-first-call, time to settle, and CPU milliseconds per completed call by process
(web, worker + beat, PostgreSQL backends of the bench database, the fake; read from /proc). Checks: no callback
lost (every one answered 2xx and the call's final status is the callback's), nobody dialled twice (no phone call
created twice at the provider, no more attempts than allowed, nobody dialled after answering), nothing moved
backwards (each call's callback events in arrival order never go back), the in-flight cap held, the callout
counters equal a recount. What bounds it: py-spy (`--py-spy`, default /tmp/e2e13_pyspy/bin/py-spy or PATH)
records a worker and the web server for --profile-seconds in the steady state, and PostgreSQL's active queries are
sampled from pg_stat_activity every 50 ms (pg_stat_statements is not loaded on this server).
Writes bench/results/callout_e2e.json and .md.
"""

import argparse
import bisect
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

from common import ROOT, ensure_database, setup_django, start_server, write_results
from dialer import Workers

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scfm_bench_e2e"
CALL_FLOW_LOGIC = "CallFlowLogic::HelloWorld"
EXPECTED_STATUS = {"completed": "completed", "busy": "busy", "no-answer": "not_answered", "failed": "failed"}
RANK = {"queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2, "answered": 2}  # anything else: terminal, 3
TABLES = (
    "phone_calls_remotephonecallevent, phone_calls_recording, phone_calls_phonecall, callouts_calloutcount, "
    "callouts_calloutparticipation, batch_operations_batchoperation, callouts_callout, contacts_contact, "
    "phone_calls_dispatchstate, phone_calls_schedulerlease, accounts_account"
)


class CpuSampler(threading.Thread):
    """CPU time (utime + stime from /proc/<pid>/stat) of each role's processes, sampled every second: a role is a
    set of process groups, or (PostgreSQL) the backends of one database. Processes first seen after `mark()` count
    from zero; those that exit between samples lose their last second (a small underestimate)."""

    def __init__(self, dsn: str, database: str):
        super().__init__(daemon=True)
        self.dsn, self.database = dsn, database
        self.groups: dict[int, str] = {}
        self.base: dict[int, int] = {}
        self.last: dict[tuple[str, int], int] = {}
        self.marked = False
        self.stopping = threading.Event()
        self.ticks = os.sysconf("SC_CLK_TCK")

    def _sample(self, backends: set[int]) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            pid = int(entry)
            role = "postgresql" if pid in backends else self.groups.get(int(fields[2]))
            if role:
                used = int(fields[11]) + int(fields[12])
                if (role, pid) not in self.last and not self.marked:
                    self.base[pid] = used
                self.last[(role, pid)] = used

    def mark(self) -> None:
        self.base = {pid: used for (_role, pid), used in self.last.items()}
        self.marked = True

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while True:
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.database]
                ).fetchall()
                self._sample({row[0] for row in rows})
                if self.stopping.wait(1.0):
                    return

    def seconds(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for (role, pid), used in self.last.items():
            totals[role] += (used - self.base.get(pid, 0)) / self.ticks
        return dict(totals)


class PgSampler(threading.Thread):
    """What PostgreSQL is doing for the bench database: its active queries (literals folded) every 50 ms."""

    def __init__(self, dsn: str, database: str):
        super().__init__(daemon=True)
        self.dsn, self.database = dsn, database
        self.samples = 0
        self.active: Counter = Counter()
        self.waits: Counter = Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stopping.wait(0.05):
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), query FROM pg_stat_activity "
                    "WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()",
                    [self.database],
                ).fetchall()
                self.samples += 1
                for wait, query in rows:
                    self.active[_fold(query)] += 1
                    self.waits[wait] += 1

    def report(self, top: int = 10) -> dict:
        per = max(self.samples, 1)
        return {
            "samples": self.samples,
            "mean_active_backends": round(sum(self.active.values()) / per, 2),
            "waits": {wait: round(n / per, 3) for wait, n in self.waits.most_common(8)},
            "top_queries": [{"query": q, "mean_active": round(n / per, 3)} for q, n in self.active.most_common(top)],
        }


def _fold(query: str) -> str:
    query = re.sub(r"'(?:[^']|'')*'", "?", query)
    query = re.sub(r"\b\d+(\.\d+)?\b", "N", query)
    query = re.sub(r"(\?|N)(, (\?|N))+", "...", query)
    return re.sub(r"\s+", " ", query)[:160]


def py_spy(binary: str | None, pid: int, seconds: int, out: Path) -> subprocess.Popen | None:
    if not binary:
        return None
    command = [binary, "record", "--pid", str(pid), "--duration", str(seconds), "--format", "raw", "--output"]
    command += [str(out), "--subprocesses", "--nonblocking", "--rate", "50"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


PROJECT = ("phone_calls", "callouts", "batch_operations", "contacts", "accounts", "call_flow_logic", "scfm")
PLUMBING = {"threading", "socket", "ssl", "selectors", "queue", "concurrent", "<frozen", "contextlib", "functools"}
WAITING = re.compile(
    r"(^|\.)(select|poll|epoll|wait|sleep|accept|recv|recv_into|readinto|_wait_for_tstate_lock|_read_from_socket|"
    r"_execute_send|_exec_command|send_packed_command) \("
)  # blocked in a call: on PostgreSQL (psycopg), the broker (redis), HTTP


def _where(frame: str) -> str:
    """py-spy's `function (package/module.py:line)` -> the top package or module of its file."""
    match = re.search(r"\(([^():]+?)(?::\d+)?\)\s*$", frame)
    return match.group(1).split("/")[0].removesuffix(".py") if match else "?"


def summarise_profile(path: Path, top: int = 10) -> dict | None:
    """From py-spy's collapsed stacks (every sampled thread py-spy counts as active, which includes threads blocked
    in a socket read): the share of samples by state (running, or waiting in a call) and the deepest library frame,
    and by the deepest project frame."""
    if not path.exists():
        return None
    by_library, ours = Counter(), Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        n = int(count)
        total += n
        state = "waiting" if WAITING.search(frames[-1]) else "running"
        libraries = [_where(f) for f in frames if _where(f) not in PLUMBING]
        by_library[f"{state} in {libraries[-1] if libraries else '?'}"] += n
        project = [f for f in frames if _where(f) in PROJECT]
        ours[project[-1] if project else "(no project frame)"] += n
    per = max(total, 1)
    return {
        "samples": total,
        "by_state_and_library": [[name, round(n / per, 3)] for name, n in by_library.most_common(top)],
        "by_project_frame": [[name, round(n / per, 3)] for name, n in ours.most_common(top)],
    }


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def sustained_rate(times: list[float]) -> float | None:
    """Events per second between the 5th and 95th percentile of their times."""
    if len(times) < 20:
        return None
    ordered = sorted(times)
    low, high = ordered[int(len(ordered) * 0.05)], ordered[int(len(ordered) * 0.95) - 1]
    return round(int(len(ordered) * 0.9) / (high - low), 1) if high > low else None


def max_live(creates: list[float], ends: list[float]) -> int:
    ends = sorted(ends)
    return max((i + 1 - bisect.bisect_right(ends, at) for i, at in enumerate(sorted(creates))), default=0)


def main() -> None:  # noqa: C901, PLR0915 - one scenario, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes")
    parser.add_argument("--concurrency", type=int, default=4, help="pool processes per worker")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8713)
    parser.add_argument("--ring", type=float, default=3.0, help="seconds before a call is answered or not")
    parser.add_argument("--talk", type=float, default=5.0, help="seconds an answered call lasts")
    parser.add_argument("--queue-limit", type=int, default=2000, help="phone_call_queue_limit")
    parser.add_argument("--retry-backoff", type=int, default=5, help="retry_backoff_seconds")
    parser.add_argument("--scheduler-interval", type=float, default=10.0)
    parser.add_argument("--broker", default=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "/tmp/e2e13_pyspy/bin/py-spy")
    parser.add_argument("--profile-after", type=float, default=30.0, help="seconds after start to begin py-spy")
    parser.add_argument("--profile-seconds", type=int, default=20)
    parser.add_argument("--stall-seconds", type=float, default=180.0)
    parser.add_argument("--timeout", type=float, default=7200.0)
    parser.add_argument("--label", default="", help="a note stored with the results (e.g. the commit)")
    args = parser.parse_args()
    if not Path(args.py_spy).exists():
        args.py_spy = None

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    database = url.rsplit("/", 1)[1].split("?", 1)[0]
    if not args.broker.startswith(("redis://127.0.0.1", "redis://localhost")):
        sys.exit("bench/callout_e2e.py uses a Redis broker on loopback only")
    data_dir = Path(tempfile.mkdtemp(prefix="scfm-bench-e2e-"))
    public_url = f"http://127.0.0.1:{args.port}"
    env = {
        "CELERY_BROKER_URL": args.broker,
        "SCFM_PUBLIC_URL": public_url,
        "SCFM_SCHEDULER_INTERVAL": str(args.scheduler_interval),
        "SCFM_DATA_DIR": str(data_dir),
        "SCFM_LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    ensure_database(url)
    setup_django(url, env=env)
    import redis
    from django.db import connection, transaction

    from accounts.models import Account
    from batch_operations import services as batch_services
    from batch_operations.models import BatchOperation
    from callouts import counters
    from callouts.models import CalloutParticipation
    from callouts.services import callout_create, callout_fire_event
    from scfm.celery import app

    def sql(statement: str, params=None):
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else None

    redis.Redis.from_url(args.broker).flushdb()
    sql(f"TRUNCATE {TABLES} CASCADE")
    sid, token = str(uuid.uuid4()), uuid.uuid4().hex
    fake_out = data_dir / "fake.json"
    fake = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_provider.py"), "--account-sid", sid, "--auth-token", token]
        + ["--out", str(fake_out), "--ring", str(args.ring), "--talk", str(args.talk)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    base_url = fake.stdout.readline().split()[1]
    settings = {
        "from_phone_number": "1234",
        "phone_call_queue_limit": args.queue_limit,
        "max_calls_per_second": 0,
        "max_phone_calls_for_callout_participation": 3,
        "retry_statuses": ["busy", "not_answered", "failed"],
        "retry_backoff_seconds": args.retry_backoff,
    }
    account = Account.objects.create(
        platform_provider_name="somleng",
        somleng_account_sid=sid,
        somleng_auth_token=token,
        somleng_api_base_url=base_url,
        settings=settings,
    )
    began = time.monotonic()
    sql(
        "INSERT INTO contacts_contact (account_id, msisdn, metadata, created_at, updated_at) "
        "SELECT %s, '+85512' || lpad(n::text, 7, '0'), '{}', now(), now() FROM generate_series(1, %s) AS n",
        [account.pk, args.contacts],
    )
    sql("ANALYZE contacts_contact")
    print(f"{args.contacts:,} contacts in {time.monotonic() - began:.1f} s", flush=True)

    server_env = {**os.environ, **env}
    workers = Workers(server_env, data_dir)
    web = None
    cpu, pg = CpuSampler(url, database), PgSampler(url, database)
    results: dict = {}
    profiles: list[tuple[str, subprocess.Popen | None, Path]] = []

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        web = start_server(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "scfm.wsgi:application", "--bind", f"127.0.0.1:{args.port}"]
            + ["--worker-class", "gthread", "--workers", str(args.web_workers), "--threads", str(args.web_threads)]
            + ["--log-level", "warning", "--chdir", str(ROOT)],
            port=args.port,
            env=server_env,
        )
        for index in range(args.workers):
            workers.start(
                f"worker{index}",
                ["worker", "--concurrency", str(args.concurrency), "--loglevel", "WARNING", "-n", f"e2e{index}@%h"],
            )
        workers.start("beat", ["beat", "--loglevel", "WARNING", "-s", str(data_dir / "celerybeat-schedule")])
        deadline = time.monotonic() + 120
        while len(app.control.ping(timeout=1.0)) < args.workers:
            workers.check()
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not answer a ping within 120 s")
        cpu.groups = {web.pid: "web", fake.pid: "fake"}
        cpu.groups.update({process.pid: "worker" for _name, process in workers.processes})
        cpu.start()

        callout = callout_create(account=account, call_flow_logic=CALL_FLOW_LOGIC)
        operation = batch_services.batch_operation_create(
            account=account, type=BatchOperation.Type.CALLOUT_POPULATION, callout=callout, parameters={}
        )
        began = time.monotonic()
        batch_services.batch_operation_fire_event(batch_operation=operation, event="queue")
        while not BatchOperation.objects.filter(pk=operation.pk, status="finished").exists():
            workers.check()
            time.sleep(0.2)
        population_seconds = time.monotonic() - began
        sql("ANALYZE callouts_calloutparticipation")
        sql("ANALYZE phone_calls_phonecall")
        print(f"population: {population_seconds:.1f} s", flush=True)

        time.sleep(1.5)  # one CPU sample of every process before the mark
        cpu.mark()
        pg.start()
        started_wall, started = time.time(), time.monotonic()
        with transaction.atomic():
            callout_fire_event(callout=callout, event="start")
        settled_query = (
            "SELECT count(*) FILTER (WHERE answered OR given_up_at IS NOT NULL), count(*) FILTER (WHERE answered) "
            "FROM callouts_calloutparticipation WHERE callout_id = %s"
        )
        last, last_change, last_print, profiled = -1, started, started, False
        while True:
            time.sleep(0.5)
            workers.check()
            if fake.poll() is not None:
                raise RuntimeError("the fake provider exited")
            settled, answered = sql(settled_query, [callout.pk])[0]
            now = time.monotonic()
            if settled != last:
                last, last_change = settled, now
            if now - last_print >= 10:
                print(f"  {now - started:6.0f} s: {settled:,} settled, {answered:,} answered", flush=True)
                last_print = now
            if not profiled and now - started >= args.profile_after and args.py_spy:
                profiled = True
                for name, pid in (("worker", workers.processes[0][1].pid), ("web", web.pid)):
                    path = data_dir / f"py-spy-{name}.txt"
                    profiles.append((name, py_spy(args.py_spy, pid, args.profile_seconds, path), path))
            if settled >= args.contacts:
                break
            if now - last_change > args.stall_seconds or now - started > args.timeout:
                print("stalled or timed out", flush=True)
                break
        settle_seconds = time.monotonic() - started
        time.sleep(1.2)
        cpu.stopping.set()
        pg.stopping.set()
        cpu.join()
        pg.join()
        for _name, process, _path in profiles:
            if process:
                process.wait(timeout=args.profile_seconds + 60)
    finally:
        workers.stop()
        if web and web.poll() is None:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(timeout=30)
        if fake.poll() is None:
            os.killpg(fake.pid, signal.SIGTERM)
            fake.wait(timeout=60)

    import json

    stats = json.loads(fake_out.read_text())
    creates, fetches, callbacks = stats["creates"], stats["fetches"], stats["callbacks"]
    rows = sql(
        "SELECT remote_call_id, status FROM phone_calls_phonecall WHERE callout_id = %s AND remote_call_id IS NOT NULL",
        [callout.pk],
    )
    status_by_sid = dict(rows)
    statuses = dict(
        sql("SELECT status, count(*) FROM phone_calls_phonecall WHERE callout_id = %s GROUP BY 1", [callout.pk])
    )
    completed = statuses.get("completed", 0)
    lost = [c for c in callbacks if not (isinstance(c[2], int) and 200 <= c[2] < 300)]
    wrong = [c for c in callbacks if status_by_sid.get(c[3]) != EXPECTED_STATUS[c[4]]]
    dials = Counter(c[2] for c in creates)
    outcome = {c[3]: (c[0], c[4]) for c in callbacks}
    dialled_after_answer = 0
    by_number: dict[str, list] = defaultdict(list)
    for at, call_sid, _pk, to in creates:
        by_number[to].append((at, call_sid))
    for attempts in by_number.values():
        answered_at = [outcome[s][0] for _at, s in attempts if outcome.get(s, (0, ""))[1] == "completed"]
        if answered_at and any(at > min(answered_at) for at, _s in attempts):
            dialled_after_answer += 1
    backwards = 0
    for (history,) in sql(
        "SELECT array_agg(e.details->>'CallStatus' ORDER BY e.id) FROM phone_calls_remotephonecallevent e "
        "JOIN phone_calls_phonecall c ON c.id = e.phone_call_id WHERE c.callout_id = %s GROUP BY e.phone_call_id",
        [callout.pk],
    ):
        ranks = [RANK.get(status or "", 3) for status in history]
        backwards += any(b < a for a, b in zip(ranks, ranks[1:], strict=False))
    counted = counters.callout_counts(callout.pk)
    recount = counters.counts_from_rows([callout.pk]).get(callout.pk, {})
    participations = CalloutParticipation.objects.filter(callout=callout)
    cpu_seconds = cpu.seconds()
    callback_times = [c[0] for c in callbacks]
    completed_times = [c[0] for c in callbacks if c[4] == "completed"]
    latencies = [c[1] for c in callbacks]
    fetch_latencies = [f[1] for f in fetches]
    settled_count = sql(settled_query, [callout.pk])[0][0]
    results = {
        "label": args.label,
        "contacts": args.contacts,
        "shape": {
            "web": f"gunicorn {args.web_workers} gthread x {args.web_threads}",
            "workers": f"{args.workers} x concurrency {args.concurrency} + beat",
            "ring_seconds": args.ring,
            "talk_seconds": args.talk,
            "phone_call_queue_limit": args.queue_limit,
            "retry_backoff_seconds": args.retry_backoff,
            "scheduler_interval_seconds": args.scheduler_interval,
            "database": f"PostgreSQL {connection.pg_version}",
            "cpus": os.cpu_count(),
        },
        "population_seconds": round(population_seconds, 1),
        "calls_dialled": len(creates),
        "calls_by_status": statuses,
        "completed_calls": completed,
        "completed_calls_per_second_overall": round(completed / settle_seconds, 1),
        "completed_calls_per_second_sustained": sustained_rate(completed_times),
        "callbacks": len(callbacks),
        "callbacks_per_second_sustained": sustained_rate(callback_times),
        "voice_url_fetches": len(fetches),
        "webhook_latency_ms": {
            "status_callback_p50": percentile(latencies, 0.5),
            "status_callback_p99": percentile(latencies, 0.99),
            "voice_url_p50": percentile(fetch_latencies, 0.5),
            "voice_url_p99": percentile(fetch_latencies, 0.99),
        },
        "start_to_first_call_seconds": round(min(c[0] for c in creates) - started_wall, 3) if creates else None,
        "start_to_all_settled_seconds": round(settle_seconds, 1),
        "cpu_ms_per_completed_call": {
            role: round(seconds * 1000 / max(completed, 1), 2) for role, seconds in sorted(cpu_seconds.items())
        },
        "cpu_seconds": {role: round(seconds, 1) for role, seconds in sorted(cpu_seconds.items())},
        "checks": {
            "every_participation_settled": settled_count == args.contacts,
            "callbacks_lost_or_refused": len(lost),
            "calls_whose_final_status_is_not_their_callback": len(wrong),
            "phone_calls_dialled_twice": sum(1 for n in dials.values() if n > 1),
            "numbers_dialled_after_answering": dialled_after_answer,
            "participations_over_max_attempts": participations.filter(phone_calls_count__gt=3).count(),
            "calls_whose_status_moved_backwards": backwards,
            "max_calls_live_at_the_provider": max_live([c[0] for c in creates], callback_times),
            "counters_equal_recount": {k: v for k, v in counted.items() if v}
            == {k: v for k, v in recount.items() if v},
        },
        "postgresql_activity": pg.report(),
        "profiles": {name: summarise_profile(path) for name, _process, path in profiles},
    }
    checks = results["checks"]
    results["met"] = (
        (results["completed_calls_per_second_sustained"] or 0) >= 80
        and checks["every_participation_settled"]
        and not any(checks[k] for k in ("callbacks_lost_or_refused", "calls_whose_final_status_is_not_their_callback"))
        and not checks["phone_calls_dialled_twice"]
        and not checks["calls_whose_status_moved_backwards"]
        and checks["max_calls_live_at_the_provider"] <= args.queue_limit
    )
    write_results("callout_e2e", results, markdown(results))
    print(json.dumps({k: v for k, v in results.items() if k not in ("profiles", "postgresql_activity")}, indent=2))
    print(f"logs and py-spy stacks: {data_dir}")


def markdown(r: dict) -> str:
    s, lat, checks = r["shape"], r["webhook_latency_ms"], r["checks"]
    lines = [
        "# End-to-end callout benchmark (`bench/callout_e2e.py`)",
        "",
        f"{r['contacts']:,} contacts, populated by a real BatchOperation ({r['population_seconds']} s), then `start`. "
        f"Web: {s['web']}; Celery: {s['workers']}; the fake provider a separate process (ring {s['ring_seconds']} s, "
        f"talk {s['talk_seconds']} s, 70 % completed, 10 % each busy / no-answer / failed, up to 3 attempts, retry "
        f"after {s['retry_backoff_seconds']} s); phone_call_queue_limit {s['phone_call_queue_limit']:,}; "
        f"{s['database']}; {s['cpus']} CPUs shared by everything. {r['label']}",
        "",
        "| figure | value |",
        "|---|---|",
        f"| completed calls per second, sustained (5th-95th percentile of completions) | "
        f"{r['completed_calls_per_second_sustained']} (target >= 80) |",
        f"| completed calls per second, start to all settled | {r['completed_calls_per_second_overall']} |",
        f"| status callbacks per second, sustained | {r['callbacks_per_second_sustained']} |",
        f"| status callback latency p50 / p99 (ms, seen by the provider) | {lat['status_callback_p50']} / "
        f"{lat['status_callback_p99']} |",
        f"| voice Url (TwiML) latency p50 / p99 (ms) | {lat['voice_url_p50']} / {lat['voice_url_p99']} |",
        f"| start to first call at the provider (s) | {r['start_to_first_call_seconds']} |",
        f"| start to every participation settled (s) | {r['start_to_all_settled_seconds']} |",
        f"| calls dialled / completed / callbacks | {r['calls_dialled']:,} / {r['completed_calls']:,} / "
        f"{r['callbacks']:,} |",
        "| CPU ms per completed call | "
        + ", ".join(f"{role} {ms}" for role, ms in r["cpu_ms_per_completed_call"].items())
        + " |",
        "",
        "## Checks",
        "",
        *[f"- {name.replace('_', ' ')}: {value}" for name, value in checks.items()],
        "",
        "## What PostgreSQL was doing (pg_stat_activity every 50 ms during the run)",
        "",
        f"Mean active backends {r['postgresql_activity']['mean_active_backends']}; waits "
        f"{r['postgresql_activity']['waits']}.",
        "",
        "| mean active | query |",
        "|---|---|",
        *[f"| {q['mean_active']} | `{q['query'][:120]}` |" for q in r["postgresql_activity"]["top_queries"]],
        "",
    ]
    for name, profile in (r.get("profiles") or {}).items():
        if not profile:
            continue
        lines += [
            f"## py-spy: {name} ({profile['samples']} samples)",
            "",
            "By state and deepest library: " + ", ".join(f"{n} {v}" for n, v in profile["by_state_and_library"]) + ".",
            "",
            "| share of samples | deepest project frame |",
            "|---|---|",
            *[f"| {v} | `{n[:110]}` |" for n, v in profile["by_project_frame"]],
            "",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
