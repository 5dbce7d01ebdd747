"""Callout population at scale: the real Celery worker against one hand-written INSERT ... SELECT.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scfm_bench_a CELERY_BROKER_URL=redis://127.0.0.1:6379/1 \
        .venv/bin/python bench/populate.py [--contacts 1000000]

Loads N contacts (half `gender=f`) into a fresh account, then, in one run side by side:
  1. hand-written SQL: one transaction of INSERT ... SELECT (participations, then their `created` phone calls) into
     callout A, in the same constrained, indexed tables;
  2. worker: a BatchOperation::CalloutPopulation with contact_filter_params {"metadata": {"gender": "f"}} queued
     through the service into callout B and run by a real `celery worker --pool=solo` process, timed from the queue
     event to `finished`; the worker's peak RSS is its VmHWM;
  3. floor: the same two INSERT ... SELECT into temporary tables shaped like the real ones (LIKE ... INCLUDING
     DEFAULTS: no index, no constraint, no foreign key, no WAL).
`--label before|after` files the figures under that column of bench/results/populate.json (other columns are kept,
so a run on main and one on a branch sit side by side) and rewrites populate.md from every column. The database is
wiped first: use a bench database.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/scfm_bench_a")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("SCFM_DATA_DIR", "/tmp/scfm_bench_a")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scfm.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts.models import Account  # noqa: E402
from batch_operations import services  # noqa: E402
from batch_operations.callout_population import population_chunk_size  # noqa: E402
from batch_operations.models import BatchOperation  # noqa: E402
from callouts.models import Callout, CalloutParticipation  # noqa: E402
from phone_calls.models import PhoneCall  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TABLES = [
    "phone_calls_remotephonecallevent",
    "phone_calls_recording",
    "phone_calls_phonecall",
    "callouts_calloutparticipation",
    "batch_operations_batchoperation",
    "callouts_callout",
    "contacts_contact",
]

BASELINE_SQL = [
    """
    INSERT INTO callouts_calloutparticipation (callout_id, contact_id, msisdn, call_flow_logic, metadata, answered,
        phone_calls_count, created_at, updated_at)
    SELECT %(callout)s, c.id, c.msisdn, 'CallFlowLogic::HelloWorld', '{}', false, 1, now(), now()
    FROM contacts_contact c
    WHERE c.account_id = %(account)s AND c.metadata->>'gender' = 'f'
    ON CONFLICT DO NOTHING
    """,
    """
    INSERT INTO phone_calls_phonecall (account_id, callout_id, callout_participation_id, contact_id, status, msisdn,
        call_flow_logic, metadata, remote_response, remote_queue_response, remote_request_params, duration,
        lock_version, created_at, updated_at)
    SELECT %(account)s, p.callout_id, p.id, p.contact_id, 'created', p.msisdn, p.call_flow_logic, '{}', '{}', '{}',
        '{}', 0, 0, now(), now()
    FROM callouts_calloutparticipation p WHERE p.callout_id = %(callout)s
    """,
]


FLOOR_SQL = [
    "CREATE TEMP TABLE floor_participations (LIKE callouts_calloutparticipation INCLUDING DEFAULTS INCLUDING IDENTITY)",
    "CREATE TEMP TABLE floor_phone_calls (LIKE phone_calls_phonecall INCLUDING DEFAULTS INCLUDING IDENTITY)",
    BASELINE_SQL[0].replace("INTO callouts_calloutparticipation", "INTO floor_participations"),
    BASELINE_SQL[1]
    .replace("INTO phone_calls_phonecall", "INTO floor_phone_calls")
    .replace("FROM callouts_calloutparticipation p", "FROM floor_participations p"),
]


def sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def load_contacts(account: Account, count: int) -> float:
    started = time.monotonic()
    sql(
        "INSERT INTO contacts_contact (account_id, msisdn, metadata, created_at, updated_at) "
        "SELECT %s, '+8551' || lpad(n::text, 8, '0'), jsonb_build_object('gender', CASE WHEN n %% 2 = 0 THEN 'f' "
        "ELSE 'm' END, 'name', 'Contact ' || n, 'district', (n %% 200)::text), now(), now() "
        "FROM generate_series(1, %s) AS n",
        [account.pk, count],
    )
    sql("ANALYZE contacts_contact")
    return time.monotonic() - started


class DatabaseCpu:
    """CPU seconds used by the PostgreSQL backends of this database while it runs (a `with` block), read from /proc
    every 0.1 s (this machine only; a backend is found by its process title, which names the database). Wall time on
    a shared machine swings with everyone else's load; the database's CPU for the same work much less. A backend
    that exits loses at most its last 0.1 s."""

    def __init__(self):
        self.title = f" {connection.settings_dict['NAME']} "
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.base: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.stopping = threading.Event()
        self.seconds = 0.0

    def _sample(self) -> dict[int, int]:
        used = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if self.title not in Path(f"/proc/{entry}/cmdline").read_text():
                    continue
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            used[int(entry)] = int(fields[11]) + int(fields[12])
        return used

    def _run(self) -> None:
        while not self.stopping.wait(0.1):
            self.last.update(self._sample())

    def __enter__(self) -> "DatabaseCpu":
        self.base = self._sample()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join()
        self.last.update(self._sample())
        self.seconds = sum(used - self.base.get(pid, 0) for pid, used in self.last.items()) / self.ticks


def baseline(account: Account, callout: Callout) -> float:
    started = time.monotonic()
    with transaction.atomic():
        for statement in BASELINE_SQL:
            sql(statement, {"callout": callout.pk, "account": account.pk})
    return time.monotonic() - started


def floor(account: Account, callout: Callout) -> float:
    started = time.monotonic()
    with transaction.atomic():
        for statement in FLOOR_SQL:
            sql(statement, {"callout": callout.pk, "account": account.pk})
    elapsed = time.monotonic() - started
    sql("DROP TABLE floor_phone_calls, floor_participations")
    return elapsed


def index_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, count(*) FROM pg_indexes WHERE tablename IN "
            "('phone_calls_phonecall', 'callouts_calloutparticipation', 'contacts_contact') GROUP BY tablename"
        )
        return dict(cursor.fetchall())


def start_worker(log: Path) -> subprocess.Popen:
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "scfm",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env={**os.environ, "CELERY_TASK_ALWAYS_EAGER": "false"},
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        if time.monotonic() > deadline or worker.poll() is not None:
            raise RuntimeError(f"worker did not start, see {log}")
        time.sleep(0.1)
    return worker


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def through_worker(account: Account, callout: Callout) -> tuple[float, float, int]:
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()
    worker = start_worker(Path(os.environ["SCFM_DATA_DIR"]) / "bench-worker.log")
    try:
        operation = services.batch_operation_create(
            account=account,
            type=BatchOperation.Type.CALLOUT_POPULATION,
            callout=callout,
            parameters={"contact_filter_params": {"metadata": {"gender": "f"}}},
        )
        started = time.monotonic()
        services.batch_operation_fire_event(batch_operation=operation, event="queue")  # on_commit -> Redis
        while not BatchOperation.objects.filter(pk=operation.pk, status="finished").exists():
            if worker.poll() is not None:
                raise RuntimeError("worker died")
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        operation.refresh_from_db()
        return elapsed, peak_rss_mb(worker.pid), operation.processed_count
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--label", default="after", help="the column these figures go under (before = main)")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    sql("TRUNCATE " + ", ".join(TABLES) + " CASCADE")
    account = Account.objects.create()
    load_seconds = load_contacts(account, args.contacts)
    print(f"loaded {args.contacts} contacts in {load_seconds:.1f}s", flush=True)

    baseline_callout = Callout.objects.create(account=account, call_flow_logic="CallFlowLogic::HelloWorld")
    with DatabaseCpu() as baseline_cpu:
        baseline_seconds = baseline(account, baseline_callout)
    print(f"hand-written INSERT ... SELECT: {baseline_seconds:.2f}s", flush=True)
    sql("ANALYZE callouts_calloutparticipation")
    sql("ANALYZE phone_calls_phonecall")

    callout = Callout.objects.create(account=account, call_flow_logic="CallFlowLogic::HelloWorld")
    with DatabaseCpu() as worker_cpu:
        worker_seconds, rss, processed = through_worker(account, callout)
    print(f"worker: {worker_seconds:.2f}s, peak RSS {rss:.0f} MB, {processed} added", flush=True)

    floor_callout = Callout.objects.create(account=account, call_flow_logic="CallFlowLogic::HelloWorld")
    with DatabaseCpu() as floor_cpu:
        floor_seconds = floor(account, floor_callout)
    print(f"floor (unindexed temporary tables): {floor_seconds:.2f}s", flush=True)

    selected = CalloutParticipation.objects.filter(callout=baseline_callout).count()
    populated = CalloutParticipation.objects.filter(callout=callout).count()
    calls = PhoneCall.objects.filter(callout=callout).count()
    assert selected == populated == calls == processed, (selected, populated, calls, processed)
    figures = {
        "hand_written_insert_select_seconds": round(baseline_seconds, 2),
        "worker_seconds": round(worker_seconds, 2),
        "floor_unindexed_temp_tables_seconds": round(floor_seconds, 2),
        "worker_vs_hand_written": round(worker_seconds / baseline_seconds, 2),
        "hand_written_db_cpu_seconds": round(baseline_cpu.seconds, 2),
        "worker_db_cpu_seconds": round(worker_cpu.seconds, 2),
        "floor_db_cpu_seconds": round(floor_cpu.seconds, 2),
        "worker_peak_rss_mb": round(rss, 1),
        "indexes": index_counts(),
        "met": worker_seconds <= 30 and worker_seconds <= 1.2 * baseline_seconds and rss < 300,
    }
    path = RESULTS / "populate.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    columns = previous.get("columns", {})
    runs = [*columns.get(args.label, {}).get("runs", []), figures]
    columns[args.label] = {**median_of(runs), "runs": runs}
    results = {
        "contacts": args.contacts,
        "selected_by_filter": selected,
        "chunk_size": population_chunk_size(),
        "database": f"{connection.vendor} {connection.pg_version}",
        "target": "worker <= 30 s and <= 1.2x the hand-written SQL of the same run, peak RSS < 300 MB",
        "columns": columns,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "populate.md").write_text(markdown(results))
    print(json.dumps(results, indent=2))


def _median(values) -> float:
    """The median (bench/statistics.py shadows the standard library's module for scripts run from bench/)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def median_of(runs: list[dict]) -> dict:
    """The median of each figure over a column's runs (this machine is shared: single runs vary by +-30 %)."""
    keys = (
        "hand_written_insert_select_seconds",
        "worker_seconds",
        "floor_unindexed_temp_tables_seconds",
        "hand_written_db_cpu_seconds",
        "worker_db_cpu_seconds",
        "floor_db_cpu_seconds",
    )
    medians = {
        key: round(_median(run[key] for run in runs if key in run), 2)
        for key in keys
        if any(key in run for run in runs)
    }
    worker, hand = medians["worker_seconds"], medians["hand_written_insert_select_seconds"]
    return {
        **medians,
        "worker_vs_hand_written": round(_median(run["worker_vs_hand_written"] for run in runs), 2),
        "worker_peak_rss_mb": max(run["worker_peak_rss_mb"] for run in runs),
        "indexes": runs[-1]["indexes"],
        "met": worker <= 30 and worker <= 1.2 * hand and all(run["worker_peak_rss_mb"] < 300 for run in runs),
    }


def markdown(results: dict) -> str:
    columns = results["columns"]
    names = list(columns)
    rows = [
        (
            "hand-written INSERT ... SELECT, same constrained tables (one transaction)",
            "hand_written_insert_select_seconds",
        ),
        (f"real Celery worker, chunks of {results['chunk_size']:,} contact ids", "worker_seconds"),
        ("floor: same rows into unindexed temporary tables", "floor_unindexed_temp_tables_seconds"),
        ("worker / hand-written", "worker_vs_hand_written"),
        ("PostgreSQL CPU seconds: hand-written", "hand_written_db_cpu_seconds"),
        ("PostgreSQL CPU seconds: worker", "worker_db_cpu_seconds"),
        ("PostgreSQL CPU seconds: floor", "floor_db_cpu_seconds"),
        ("worker peak RSS (MB)", "worker_peak_rss_mb"),
    ]
    lines = [
        "# Callout population benchmark (`bench/populate.py`)",
        "",
        f"{results['contacts']:,} contacts, filter `metadata.gender = f` selects {results['selected_by_filter']:,}; "
        "each selected contact gets a participation and one `created` phone call. Seconds unless stated; each "
        "column is the median of its runs of `.venv/bin/python bench/populate.py --label <column>` "
        "(before = main, after = this branch), run alternately on the same shared machine; every run's figures are "
        "in populate.json.",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for title, key in rows:
        lines.append(f"| {title} | " + " | ".join(str(columns[n].get(key, "")) for n in names) + " |")
    for table in ("phone_calls_phonecall", "callouts_calloutparticipation", "contacts_contact"):
        lines.append(
            f"| indexes on {table} | " + " | ".join(str(columns[n]["indexes"].get(table)) for n in names) + " |"
        )
    lines.append("| runs | " + " | ".join(str(len(columns[n].get("runs", [1]))) for n in names) + " |")
    lines.append("| target met (median) | " + " | ".join(str(columns[n]["met"]) for n in names) + " |")
    lines += ["", f"Target: {results['target']}.", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
