"""Server time of every dashboard page on a large callout (issue 14: < 100 ms each on a 1,000,000-participation
callout; the live progress < 20 ms).

    .venv/bin/python bench/dashboard.py [--participations 1000000] [--runs 20]

Builds (once; a later run with the same size reuses it) an account with a signed-in user and a running callout of
`--participations` contacts, participations and one phone call each, in set-based SQL (INSERT ... SELECT
generate_series): 60% completed (answered), 10% each not answered, busy and failed (given up), 10% still in
progress. The counters are then recomputed from the rows (counters.callout_counts_recount, what `callouts_recount`
does) and an hour of per-minute series rows is added, so the pages read what a real run would leave.

Each page is requested in process through Django's test client (the whole middleware stack, the session, the
database; no network): `--runs` sequential GETs after one warm-up, reporting p50 / p95 / max ms and the queries
per request. Pages of the other dashboard areas are timed too when they exist (a 404 is reported as missing).
Writes bench/results/dashboard.json and .md. Uses its own database (DATABASE_URL, default scfm_bench_dashboard).
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import ensure_database, setup_django, write_results  # noqa: E402

URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/scfm_bench_dashboard")
BENCH_KEY = "bench_dashboard_size"

# (label, path template): {c} is the callout id. Pages of dash-pop and dash-admin are listed so the one report covers
# the whole dashboard once their branches are merged.
PAGES = [
    ("callouts (home)", "/dashboard/"),
    ("callout page", "/dashboard/callouts/{c}"),
    ("live progress (htmx)", "/dashboard/callouts/{c}/progress"),
    ("chart series (JSON)", "/dashboard/callouts/{c}/series"),
    ("start confirmation", "/dashboard/callouts/{c}/start"),
    ("stop confirmation", "/dashboard/callouts/{c}/stop"),
    ("edit callout", "/dashboard/callouts/{c}/edit"),
    ("new callout", "/dashboard/callouts/new"),
    ("populate", "/dashboard/callouts/{c}/populate"),
    ("populate preview (every contact)", "/dashboard/callouts/{c}/populate/preview"),
    ("rehearse", "/dashboard/callouts/{c}/rehearse"),
    ("call me first", "/dashboard/callouts/{c}/call_me"),
    ("participations", "/dashboard/callouts/{c}/participations"),
    ("participations ?status=answered", "/dashboard/callouts/{c}/participations?status=answered"),
    ("callout phone calls", "/dashboard/callouts/{c}/phone_calls"),
    ("callout phone calls ?status=busy", "/dashboard/callouts/{c}/phone_calls?status=busy"),
    ("phone calls", "/dashboard/phone_calls"),
    ("recordings", "/dashboard/recordings"),
    ("contacts", "/dashboard/contacts"),
    ("users", "/dashboard/users"),
    ("account settings", "/dashboard/settings"),
    ("API keys", "/dashboard/api_keys"),
]


def build(size: int):
    """(user, callout) of a running callout with `size` participations; reused when one of that size exists."""
    from django.db import connection, transaction

    from accounts.models import Account, User
    from callouts import counters
    from callouts.models import Callout, CalloutCount

    existing = Callout.objects.filter(metadata__contains={BENCH_KEY: size}).first()
    if existing:
        return User.objects.filter(account=existing.account).first(), existing, 0.0
    started = time.monotonic()
    with transaction.atomic():
        account = Account.objects.create(settings={"phone_call_queue_limit": 200})
        user = User.objects.create_user(email=f"bench-dashboard-{account.pk}@example.com", account=account)
        callout = Callout.objects.create(
            account=account,
            call_flow_logic="CallFlowLogic::HelloWorld",
            status="running",
            metadata={"name": f"Bench {size:,}", BENCH_KEY: size},
        )
        flow = "CallFlowLogic::HelloWorld"
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO contacts_contact (account_id, msisdn, metadata, created_at, updated_at) "
                "SELECT %s, '+855' || lpad(%s::text, 3, '0') || lpad(n::text, 8, '0'), "
                "jsonb_build_object('province', 'P' || (n %% 25)), now(), now() FROM generate_series(1, %s) AS n",
                [account.pk, account.pk % 1000, size],
            )
            # outcome by row number: 0-5 completed, 6 not_answered (+ 9 half), 7 busy, 8 failed, 9 in progress
            cursor.execute(
                "INSERT INTO callouts_calloutparticipation (callout_id, contact_id, msisdn, call_flow_logic, metadata, "
                "answered, phone_calls_count, given_up_at, created_at, updated_at) "
                "SELECT %s, c.id, c.msisdn, %s, '{}', (c.id %% 10) < 6, 1, "
                "CASE WHEN (c.id %% 10) IN (6, 7, 8) THEN now() END, now(), now() "
                "FROM contacts_contact c WHERE c.account_id = %s",
                [callout.pk, flow, account.pk],
            )
            cursor.execute(
                "INSERT INTO phone_calls_phonecall (account_id, callout_id, callout_participation_id, contact_id, "
                "status, msisdn, metadata, remote_response, remote_queue_response, remote_request_params, "
                "call_flow_logic, duration, lock_version, created_at, updated_at) "
                "SELECT %s, p.callout_id, p.id, p.contact_id, "
                "CASE WHEN (p.contact_id %% 10) < 6 THEN 'completed' WHEN (p.contact_id %% 10) = 6 THEN 'not_answered' "
                "WHEN (p.contact_id %% 10) = 7 THEN 'busy' WHEN (p.contact_id %% 10) = 8 THEN 'failed' "
                "ELSE 'in_progress' END, "
                "p.msisdn, '{}', '{}', '{}', '{}', p.call_flow_logic, 0, 0, now(), now() "
                "FROM callouts_calloutparticipation p WHERE p.callout_id = %s",
                [account.pk, callout.pk],
            )
        counters.callout_counts_recount(callout_ids=[callout.pk], lock=False)
        now = counters.minute_of(time_now())
        rows = []
        for minute_back in range(60):
            minute = now - timedelta_minutes(minute_back)
            for key, count in (("dialled", 300), ("answered", 180), ("busy", 30), ("not_answered", 45), ("failed", 15)):
                rows.append(CalloutCount(callout=callout, key=key, minute=minute, count=count, is_squashed=True))
        CalloutCount.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact, callouts_calloutparticipation, phone_calls_phonecall")
    return user, callout, time.monotonic() - started


def time_now():
    from django.utils import timezone

    return timezone.now()


def timedelta_minutes(n: int):
    from datetime import timedelta

    return timedelta(minutes=n)


def time_page(client, path: str, runs: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = client.get(path)
    if first.status_code != 200:
        return {"status": first.status_code}
    samples = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    samples.sort()
    return {
        "status": 200,
        "p50_ms": round(samples[len(samples) // 2], 2),
        "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 2),
        "max_ms": round(samples[-1], 2),
        "queries": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participations", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    ensure_database(URL)
    setup_django(URL, env={"ALLOWED_HOSTS": "*"})
    from django.test import Client

    user, callout, build_seconds = build(args.participations)
    client = Client()
    client.force_login(user)
    results = {}
    for label, template in PAGES:
        path = template.format(c=callout.pk)
        results[label] = {"path": path, **time_page(client, path, args.runs)}
        print(label, results[label], flush=True)
    limit = {"live progress (htmx)": 20}
    lines = [
        f"# Dashboard pages: server time on a {args.participations:,}-participation callout",
        "",
        f"`.venv/bin/python bench/dashboard.py --participations {args.participations} --runs {args.runs}` "
        f"(in process, Django test client, PostgreSQL; build {build_seconds:.1f} s, 0 when reused; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs while measuring).",
        "",
        "| page | path | p50 ms | p95 ms | max ms | queries | budget |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, row in results.items():
        if row["status"] != 200:
            lines.append(f"| {label} | `{row['path']}` | answered {row['status']} (not built) | | | | |")
            continue
        budget = limit.get(label, 100)
        verdict = "ok" if row["p95_ms"] < budget else "OVER"
        lines.append(
            f"| {label} | `{row['path']}` | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} | {row['queries']} "
            f"| < {budget} ms {verdict} |"
        )
    data = {"participations": args.participations, "runs": args.runs, "build_seconds": build_seconds, "pages": results}
    write_results("dashboard", data, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
