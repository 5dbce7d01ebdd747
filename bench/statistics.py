"""Live numbers at scale: callout statistics, the per-minute series and the callout lists over HTTP, from counters,
side by side with a plain GET /api/callouts/:id and a full recount from the rows; at rest and while another callout
is being dialled.

    .venv/bin/python bench/statistics.py [--participations 1000000] [--dialled 5000] [--requests 200]

Builds a callout through the product's own write paths, so the counters are real: contacts (one INSERT ... SELECT;
contacts are not counted), the population service (CalloutPopulation, set-based chunks: every participation gets
its `created` call), then `--dialled` calls go through the dialling stages one by one: the dispatcher's claim
(phone_calls_claim), the dial result (dialling._record_create_result: accepted, 3% refused), one status report per
call: 60% `completed` through the webhook's SQL fast path (status_callbacks.status_callback_apply), the rest busy /
no-answer / failed / canceled through the locked path (lifecycle, which schedules retries and records given up).
The per-call stages cost ~10-30 ms a call on a shared 2-core machine, so dialling all 1,000,000 is out of reach
here: the rest of the calls stay `created` (the lists filtered by `created` are then the big ones).

Then it starts gunicorn (2 gthread workers x 4 threads, as `make run`) and times sequential requests (p50 / p95 /
max) of each endpoint, twice: at rest (counters squashed), and while a second account's callout (`--busy-size`
participations) is dialled by a separate process through the same stages (squashing every
SCFM_COUNTS_SQUASH_INTERVAL seconds, as the beat does), timing that callout's statistics and series too. It also
times `counters.counts_from_rows` (what `manage.py callouts_recount` computes) and the old scan-based statistics
query. Writes bench/results/statistics.json and .md.

Uses its own database (DATABASE_URL, default scfm_bench_stats) and adds fresh accounts each run.
"""

import argparse
import os
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import ensure_database, setup_django, start_server, write_results  # noqa: E402

URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/scfm_bench_stats")
ENDED_STATUSES = ("completed", "busy", "not_answered", "failed", "canceled", "errored")
OUTCOMES = ["completed"] * 6 + ["busy", "no-answer", "failed", "canceled"]


def populate(size: int) -> tuple[int, int, str]:
    """(account id, callout id, API token) of a new account's running callout of `size` participations, each with
    its `created` call, through the population service."""
    from django.db import connection

    from accounts.models import AccessToken, Account, Permission
    from batch_operations.callout_population import CalloutPopulation
    from batch_operations.models import BatchOperation
    from callouts.models import Callout

    account = Account.objects.create(
        settings={"max_calls_per_second": 0, "phone_call_queue_limit": 10**9, "retry_backoff_seconds": 1}
    )
    token = AccessToken.objects.create(account=account, permissions=list(Permission.values))
    callout = Callout.objects.create(account=account, call_flow_logic="CallFlowLogic::HelloWorld", status="running")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contacts_contact (account_id, msisdn, metadata, created_at, updated_at) "
            "SELECT %s, '+855' || lpad(%s::text, 3, '0') || lpad(n::text, 8, '0'), '{}', now(), now() "
            "FROM generate_series(1, %s) AS n",
            [account.pk, account.pk % 1000, size],
        )
        cursor.execute("ANALYZE contacts_contact")
    operation = BatchOperation.objects.create(
        account=account, callout=callout, type=BatchOperation.Type.CALLOUT_POPULATION, parameters={}, status="running"
    )
    CalloutPopulation().run(operation)
    return account.pk, callout.pk, token.token


def dial(account_id: int, callout_id: int, limit: int | None = None) -> int:
    """Dial the account's due calls one by one through the product's stages until `limit` calls were dialled (None:
    until none is left, retries included); returns the number of status reports sent."""
    from phone_calls import dialling, dispatch, lifecycle, tasks
    from phone_calls.models import PhoneCall
    from phone_calls.providers.base import CreateOutcome, CreateResult
    from phone_calls.status_callbacks import status_callback_apply

    tasks.queue_remote_call.delay = lambda *args, **kwargs: None  # the bench records dial results itself
    dialled = reports = 0
    while limit is None or dialled < limit:
        batch = 500 if limit is None else min(500, limit - dialled)
        claimed = dispatch.phone_calls_claim(account_id=account_id, batch_size=batch).phone_call_ids
        if not claimed:
            # retries are due after their back-off
            if not PhoneCall.objects.filter(callout_id=callout_id, status="created").exists():
                break
            time.sleep(1)
            continue
        for pk in claimed:
            dialled += 1
            refused = pk % 33 == 0
            result = CreateResult(
                CreateOutcome.REJECTED if refused else CreateOutcome.ACCEPTED,
                remote_call_id=None if refused else f"CA{pk:032d}",
                remote_status="queued",
                error_message="refused" if refused else None,
            )
            dialling._record_create_result(pk, result, None)
            if refused:
                continue
            status = OUTCOMES[(pk * 7) % len(OUTCOMES)]
            reports += 1
            params = {"CallSid": f"CA{pk:032d}", "CallStatus": status, "Direction": "outbound-api"}
            if status_callback_apply(account_id=account_id, params=params) is None:
                lifecycle.phone_call_record_remote_status(phone_call_id=pk, remote_status=status)
    return reports


def build(size: int, dialled: int) -> tuple[int, int, str, dict]:
    """(account id, callout id, API token, build timings) of a callout of `size` participations, `dialled` of its
    calls dialled."""
    from phone_calls.models import PhoneCall

    timings: dict = {}
    started = time.monotonic()
    account_id, callout_id, token = populate(size)
    timings["population_s"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    timings["status_reports"] = dial(account_id, callout_id, dialled)
    timings["dialling_s"] = round(time.monotonic() - started, 1)
    timings["dialled"] = dialled
    timings["phone_calls"] = PhoneCall.objects.filter(callout_id=callout_id).count()
    return account_id, callout_id, token, timings


def dial_worker(account_id: int, callout_id: int) -> None:
    """The busy callout's dialler (a process of its own): dial every call, squashing the counters as the beat does."""
    import threading

    from django.conf import settings
    from django.db import connection

    from callouts import counters

    def squash_forever() -> None:
        while True:
            time.sleep(settings.SCFM_COUNTS_SQUASH_INTERVAL)
            counters.callout_counts_squash()
            connection.close()

    threading.Thread(target=squash_forever, daemon=True).start()
    dial(account_id, callout_id)


def _median(samples: list[float]) -> float:
    ordered = sorted(samples)  # (the stdlib's `statistics` is shadowed by this script's own name)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def summary(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {
        "requests": len(samples),
        "p50_ms": round(_median(samples), 2),
        "p95_ms": round(samples[max(int(len(samples) * 0.95) - 1, 0)], 2),
        "max_ms": round(samples[-1], 2),
    }


def measure(port: int, paths: dict[str, tuple[str, str, int]], rounds: int) -> dict:
    """name -> p50/p95/max of sequential requests of each (path, token, every) of `paths`: interleaved, one round
    asking each path in turn (a path with `every` n only every n-th round), so the machine's other load falls on
    every endpoint alike; 3 warm-up rounds are not counted."""
    connection = HTTPConnection("127.0.0.1", port, timeout=60)
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for index in range(rounds + 3):
        for name, (path, token, every) in paths.items():
            if index % every:
                continue
            started = time.perf_counter()
            connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, (path, response.status)
            if index >= 3:
                samples[name].append((time.perf_counter() - started) * 1000)
    return {name: summary(values) for name, values in samples.items()}


def start_gunicorn(port: int) -> subprocess.Popen:
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "scfm.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--worker-class", "gthread", "--workers", "2", "--threads", "4", "--log-level", "warning"]
    env = {**os.environ, "DATABASE_URL": URL, "SCFM_LOG_LEVEL": "WARNING"}
    return start_server(command, port=port, env=env, probe="/health/live")


def timed(function, runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return round(_median(samples), 2)


def old_scan_statistics(callout_id: int) -> None:
    """What GET .../callout_statistics ran before counters: two grouped scans and a per-row EXISTS."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE answered), COUNT(*) FILTER (WHERE NOT answered AND "
            "phone_calls_count >= 3 AND NOT EXISTS (SELECT 1 FROM phone_calls_phonecall c WHERE "
            "c.callout_participation_id = p.id AND c.status IN ('created','queued','remotely_queued','in_progress'))) "
            "FROM callouts_calloutparticipation p WHERE callout_id = %s",
            [callout_id],
        )
        cursor.execute(
            "SELECT status, COUNT(*) FROM phone_calls_phonecall WHERE callout_id = %s GROUP BY status", [callout_id]
        )


def endpoints(callout_id: int, token: str, calls: int) -> dict[str, tuple[str, str, int]]:
    """name -> (path, token, every n-th round) of the endpoints timed on the big callout."""
    deep = max(min(20_000, calls // 25), 1)  # page 20000 of 25 on 1,000,000+ calls; the last page of fewer
    base = f"/api/callouts/{callout_id}"
    return {
        "GET /api/callouts/:id": (base, token, 1),
        "GET /api/callouts/:id/callout_statistics": (f"{base}/callout_statistics", token, 1),
        "GET .../callout_statistics/series (60 min)": (f"{base}/callout_statistics/series", token, 1),
        "GET /api/callouts/:id/phone_calls?q[status]=completed&page=20": (
            f"{base}/phone_calls?q%5Bstatus%5D=completed&page=20",
            token,
            1,
        ),
        "GET /api/callouts/:id/phone_calls?q[status]=created&page=20": (
            f"{base}/phone_calls?q%5Bstatus%5D=created&page=20",
            token,
            1,
        ),
        "GET /api/callouts/:id/callout_participations?page=20": (f"{base}/callout_participations?page=20", token, 1),
        f"GET /api/phone_calls?page={deep}": (f"/api/phone_calls?page={deep}", token, 4),
    }


def table(http: dict) -> list[str]:
    return [
        "| endpoint (sequential, gunicorn 2x4 gthread) | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|",
        *(f"| {name} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} |" for name, r in http.items()),
    ]


def vacuum_analyze() -> None:
    """What autovacuum does to a table after a bulk load (planner statistics, the visibility map for index-only
    scans), done now rather than whenever it gets round to it; without it the planner guesses from an empty table.
    And random_page_cost 1.1, as a deployment has it (docs/production.md)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("contacts_contact", "callouts_calloutparticipation", "phone_calls_phonecall"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        # as docs/production.md asks of a deployment (compose sets it on the server): new connections take it
        cursor.execute(f'ALTER DATABASE "{connection.settings_dict["NAME"]}" SET random_page_cost = 1.1')


def reused(callout_id: int) -> tuple[int, int, str, dict]:
    """The big callout of an earlier run (--reuse): its ids, a token and the build figures that run recorded."""
    import json

    from accounts.models import AccessToken
    from callouts.models import Callout
    from phone_calls.models import PhoneCall

    callout = Callout.objects.get(pk=callout_id)
    token = AccessToken.objects.filter(account_id=callout.account_id).first()
    previous = ROOT / "bench" / "results" / "statistics.json"
    timings = json.loads(previous.read_text()).get("build", {}) if previous.exists() else {}
    if timings.get("callout_id") != callout_id:
        timings = {"callout_id": callout_id}
    timings["phone_calls"] = PhoneCall.objects.filter(callout_id=callout_id).count()
    return callout.account_id, callout_id, token.token, timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participations", type=int, default=1_000_000)
    parser.add_argument("--dialled", type=int, default=5_000, help="calls of the big callout dialled one by one")
    parser.add_argument("--busy-size", type=int, default=50_000, help="participations of the callout being dialled")
    parser.add_argument("--requests", type=int, default=200, help="rounds of requests (each endpoint once a round)")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--reuse", type=int, metavar="CALLOUT", help="time the big callout an earlier run built")
    parser.add_argument("--dial-worker", nargs=2, type=int, metavar=("ACCOUNT", "CALLOUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    ensure_database(URL)
    setup_django(URL)
    if args.dial_worker:
        dial_worker(*args.dial_worker)
        return
    from callouts import counters
    from callouts.models import CalloutParticipation

    if args.reuse:
        account_id, callout_id, token, timings = reused(args.reuse)
    else:
        account_id, callout_id, token, timings = build(args.participations, args.dialled)
        timings["callout_id"] = callout_id
    participations = CalloutParticipation.objects.filter(callout_id=callout_id).count()
    vacuum_analyze()
    started = time.monotonic()
    busy_account, busy_callout, busy_token = populate(args.busy_size)
    timings["busy_population_s"] = round(time.monotonic() - started, 1)
    while counters.callout_counts_squash():
        pass
    started = time.perf_counter()
    recount = counters.counts_from_rows([callout_id])[callout_id]
    recount_ms = round((time.perf_counter() - started) * 1000, 1)
    assert counters.callout_counts(callout_id) == recount, "counters differ from the recount"
    paths = endpoints(callout_id, token, timings["phone_calls"])
    base = f"/api/callouts/{busy_callout}"
    busy_paths = {
        "busy callout: GET /api/callouts/:id": (base, busy_token, 1),
        "busy callout: GET .../callout_statistics": (f"{base}/callout_statistics", busy_token, 1),
        "busy callout: GET .../callout_statistics/series": (f"{base}/callout_statistics/series", busy_token, 1),
    }
    server = start_gunicorn(args.port)
    worker = None
    try:
        loads = {"before": os.getloadavg()[0]}
        at_rest = measure(args.port, paths, args.requests)
        loads["after_at_rest"] = os.getloadavg()[0]
        command = [sys.executable, __file__, "--dial-worker", str(busy_account), str(busy_callout)]
        worker = subprocess.Popen(command, env={**os.environ, "DATABASE_URL": URL}, start_new_session=True)
        time.sleep(5)  # the dialler is under way
        dialling = measure(args.port, {**paths, **busy_paths}, args.requests)
        busy_still_dialling = worker.poll() is None
        loads["after_dialling"] = os.getloadavg()[0]
    finally:
        if worker is not None:
            os.killpg(worker.pid, 15)
            worker.wait()
        os.killpg(server.pid, 15)
        server.wait()
    busy_counts = counters.callout_counts(busy_callout)
    busy_recount = counters.counts_from_rows([busy_callout])[busy_callout]
    stats, plain = "GET /api/callouts/:id/callout_statistics", "GET /api/callouts/:id"
    busy_stats, busy_plain = "busy callout: GET .../callout_statistics", "busy callout: GET /api/callouts/:id"
    result = {
        "participations": participations,
        "build": timings,
        "full_recount_ms": recount_ms,
        "load_average_1min": {name: round(value, 1) for name, value in loads.items()},
        "counters": recount,
        "http_sequential_at_rest": at_rest,
        "http_sequential_while_dialling": dialling,
        "statistics_p95_over_plain_get": {
            "at_rest": round(at_rest[stats]["p95_ms"] / at_rest[plain]["p95_ms"], 2),
            "while_dialling": round(dialling[stats]["p95_ms"] / dialling[plain]["p95_ms"], 2),
            "busy_callout": round(dialling[busy_stats]["p95_ms"] / dialling[busy_plain]["p95_ms"], 2),
        },
        "busy_callout": {
            "participations": args.busy_size,
            "still_dialling_at_the_end": busy_still_dialling,
            "calls_dialled": sum(busy_counts[counters.CALL_KEYS[status]] for status in ENDED_STATUSES),
            "counters_equal_recount_after": busy_counts == busy_recount,
        },
        "in_process_ms": {
            "full recount from rows (counts_from_rows, median of 5)": timed(
                lambda: counters.counts_from_rows([callout_id])
            ),
            "old scan-based statistics queries (median of 5)": timed(lambda: old_scan_statistics(callout_id)),
            "counters read (callout_counts, median of 5)": timed(lambda: counters.callout_counts(callout_id)),
        },
    }
    ratio = result["statistics_p95_over_plain_get"]
    lines = [
        f"# Callout statistics from counters: {participations:,} participations, {timings['phone_calls']:,} calls",
        "",
        f"Built through the product's write paths: population {timings.get('population_s')} s; then "
        f"{timings.get('dialled', 0):,} calls dialled one by one in {timings.get('dialling_s')} s (claim, dial result, "
        f"{timings.get('status_reports', 0):,} status reports, retries); the other calls stay `created`. Counters "
        f"equal the full recount ({recount_ms} ms). Requests: {args.requests} interleaved rounds (each endpoint once "
        "a round, the deep account page every 4th), sequential, one keep-alive connection. The machine's 1-minute "
        f"load average (2 cores, shared): {result['load_average_1min']}.",
        "",
        "## At rest (counters squashed)",
        "",
        *table(at_rest),
        "",
        f"Statistics p95 / plain GET p95: **{ratio['at_rest']}x**.",
        "",
        f"## While a second callout ({args.busy_size:,} participations) is being dialled",
        "",
        *table(dialling),
        "",
        f"Statistics p95 / plain GET p95: big callout **{ratio['while_dialling']}x**, the callout being dialled "
        f"**{ratio['busy_callout']}x**. Calls of the busy callout dialled by the end: "
        f"{result['busy_callout']['calls_dialled']:,}; its counters equal a recount afterwards: "
        f"{result['busy_callout']['counters_equal_recount_after']}.",
        "",
        "| in process | ms |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in result["in_process_ms"].items()),
        "",
    ]
    write_results("statistics", result, "\n".join(lines))


if __name__ == "__main__":
    main()
