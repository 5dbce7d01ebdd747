"""Live numbers at scale: callout statistics, the per-minute series and the callout lists over HTTP, from counters,
side by side with a plain GET /api/callouts/:id and a full recount from the rows.

    .venv/bin/python bench/statistics.py [--participations 20000] [--requests 200]

Builds a callout through the product's own write paths, so the counters are real: contacts (one INSERT ... SELECT;
contacts are not counted), the population service (CalloutPopulation, set-based chunks), the dispatcher's claim
(phone_calls_claim), the dial result (dialling._record_create_result: accepted, 3% refused), then one status report
per call: 60% `completed` through the webhook's SQL fast path (status_callbacks.status_callback_apply), the rest
busy / no-answer / failed / canceled through the locked path (lifecycle, which schedules retries and records given
up). Then it starts gunicorn (2 gthread workers x 4 threads, as `make run`) and times sequential requests (p50 /
p95 / max) of each endpoint, and times `counters.counts_from_rows` (what `manage.py callouts_recount` computes) and
the old scan-based statistics query. Writes bench/results/statistics.json and .md.

Uses its own database (DATABASE_URL, default scfm_bench_stats) and adds a fresh account each run.
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


def build(size: int) -> tuple[int, int, str, dict]:
    """(account id, callout id, API token, build timings) of a callout of `size` participations."""
    from django.db import connection

    from accounts.models import AccessToken, Account, Permission
    from batch_operations.callout_population import CalloutPopulation
    from batch_operations.models import BatchOperation
    from callouts.models import Callout
    from phone_calls import dialling, dispatch, lifecycle, tasks
    from phone_calls.models import PhoneCall
    from phone_calls.providers.base import CreateOutcome, CreateResult
    from phone_calls.status_callbacks import status_callback_apply

    tasks.queue_remote_call.delay = lambda *args, **kwargs: None  # the bench records dial results itself
    timings = {}
    account = Account.objects.create(
        settings={"max_calls_per_second": 0, "phone_call_queue_limit": 10**9, "retry_backoff_seconds": 1}
    )
    token = AccessToken.objects.create(account=account, permissions=list(Permission.values))
    callout = Callout.objects.create(account=account, call_flow_logic="CallFlowLogic::HelloWorld", status="running")
    started = time.monotonic()
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
    timings["population_s"] = round(time.monotonic() - started, 1)

    started = time.monotonic()
    reports = 0
    while True:
        claimed = dispatch.phone_calls_claim(account_id=account.pk, batch_size=500).phone_call_ids
        if not claimed:
            # retries are due after their back-off
            if not PhoneCall.objects.filter(callout=callout, status="created").exists():
                break
            time.sleep(1)
            continue
        for pk in claimed:
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
            outcome = ["completed"] * 6 + ["busy", "no-answer", "failed", "canceled"]
            status = outcome[(pk * 7) % len(outcome)]
            reports += 1
            params = {"CallSid": f"CA{pk:032d}", "CallStatus": status, "Direction": "outbound-api"}
            if status_callback_apply(account_id=account.pk, params=params) is None:
                lifecycle.phone_call_record_remote_status(phone_call_id=pk, remote_status=status)
    timings["dialling_s"] = round(time.monotonic() - started, 1)
    timings["status_reports"] = reports
    timings["phone_calls"] = PhoneCall.objects.filter(callout=callout).count()
    return account.pk, callout.pk, token.token, timings


def _median(samples: list[float]) -> float:
    ordered = sorted(samples)  # (the stdlib's `statistics` is shadowed by this script's own name)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def timed_requests(port: int, token: str, path: str, count: int) -> dict:
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for index in range(count + 10):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, (path, response.status)
        if index >= 10:  # warm-up
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(_median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "max_ms": round(samples[-1], 2),
    }


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participations", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()
    ensure_database(URL)
    setup_django(URL)
    from callouts import counters

    account_id, callout_id, token, timings = build(args.participations)
    counters.callout_counts_squash()
    recount = counters.counts_from_rows([callout_id])[callout_id]
    assert counters.callout_counts(callout_id) == recount, "counters differ from the recount"
    endpoints = {
        "GET /api/callouts/:id": f"/api/callouts/{callout_id}",
        "GET /api/callouts/:id/callout_statistics": f"/api/callouts/{callout_id}/callout_statistics",
        "GET .../callout_statistics/series (60 min)": f"/api/callouts/{callout_id}/callout_statistics/series",
        "GET /api/callouts/:id/phone_calls?q[status]=completed&page=20": (
            f"/api/callouts/{callout_id}/phone_calls?q%5Bstatus%5D=completed&page=20"
        ),
        "GET /api/callouts/:id/callout_participations?page=20": (
            f"/api/callouts/{callout_id}/callout_participations?page=20"
        ),
    }
    server = start_gunicorn(args.port)
    try:
        http = {name: timed_requests(args.port, token, path, args.requests) for name, path in endpoints.items()}
    finally:
        os.killpg(server.pid, 15)
        server.wait()
    plain = http["GET /api/callouts/:id"]["p95_ms"]
    result = {
        "participations": args.participations,
        "build": timings,
        "counters": recount,
        "http_sequential": http,
        "statistics_p95_over_plain_get": round(http["GET /api/callouts/:id/callout_statistics"]["p95_ms"] / plain, 2),
        "in_process_ms": {
            "full recount from rows (counts_from_rows, median of 5)": timed(
                lambda: counters.counts_from_rows([callout_id])
            ),
            "old scan-based statistics queries (median of 5)": timed(lambda: old_scan_statistics(callout_id)),
            "counters read (callout_counts, median of 5)": timed(lambda: counters.callout_counts(callout_id)),
        },
    }
    lines = [
        f"# Callout statistics from counters: {args.participations:,} participations, {timings['phone_calls']:,} calls",
        "",
        f"Built through the product's write paths in {timings['population_s']} s (population) + "
        f"{timings['dialling_s']} s (claim, dial result, {timings['status_reports']:,} status reports, retries).",
        "",
        "| endpoint (sequential, gunicorn 2x4 gthread) | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|",
        *(f"| {name} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} |" for name, r in http.items()),
        "",
        f"Statistics p95 / plain GET p95: **{result['statistics_p95_over_plain_get']}x**.",
        "",
        "| in process | ms |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in result["in_process_ms"].items()),
        "",
    ]
    write_results("statistics", result, "\n".join(lines))


if __name__ == "__main__":
    main()
