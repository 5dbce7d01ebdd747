"""Benchmark: `GET /api/contacts` with metadata filters against the same SQL run directly.

    .venv/bin/python bench/contacts_filter.py [N] [--runs 7] [--reload]

Loads N contacts (default 1,000,000) with varied metadata into the PostgreSQL database of DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/scfm_bench_e, created when missing) with one INSERT ... SELECT
generate_series, then for each filter

  (a) metadata equality     q[metadata][gender]=f
  (b) date cast             q[metadata][date_of_birth.date.gt]=2000-01-01
  (c) .any on an array      q[metadata][districts.any][]=1401&q[metadata][districts.any][]=1402

times the first page (with its Total header) through the whole Django stack (in-process test Client: URL routing,
authentication, filter parsing, ORM, serialisation, rendering) and the COUNT + first-page SQL that request ran,
captured with CaptureQueriesContext and executed raw with psycopg. Medians over --runs runs go to
bench/results/contacts_filter.json and .md. Target: the API within 2x of raw SQL.
"""

import argparse
import os
import platform
import statistics
import sys
import time

from common import ensure_database, setup_django, write_results

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scfm_bench_e"

FILTERS = {
    "metadata_equality": {"q[metadata][gender]": "f"},
    "date_cast": {"q[metadata][date_of_birth.date.gt]": "2000-01-01"},
    "any": {"q[metadata][districts.any][]": ["1401", "1402"]},
}

# One statement: varied metadata (string, date string, array of strings, number, nested hash) for every row.
LOAD_SQL = """
INSERT INTO contacts_contact (account_id, msisdn, metadata, created_at, updated_at)
SELECT %(account_id)s,
       '+2526' || lpad(i::text, 8, '0'),
       jsonb_build_object(
           'name', 'Contact ' || i,
           'gender', CASE WHEN i %% 2 = 0 THEN 'f' ELSE 'm' END,
           'date_of_birth', to_char(date '1950-01-01' + (hashint4(i) & 2147483647) %% 22000, 'YYYY-MM-DD'),
           'age', 10 + (hashint4(i + 1) & 2147483647) %% 80,
           'districts', CASE WHEN i %% 3 = 0
               THEN jsonb_build_array((1400 + i %% 40)::text, (1400 + (i / 40) %% 40)::text)
               ELSE jsonb_build_array((1400 + i %% 40)::text) END,
           'location', jsonb_build_object('province', 'P' || (i %% 25))
       ),
       now() - make_interval(secs => %(n)s - i),
       now() - make_interval(secs => %(n)s - i)
FROM generate_series(1, %(n)s) AS i
"""


def ensure_contacts(n: int, reload: bool):
    """The bench account (found by its metadata) holding exactly N contacts; loaded in one statement."""
    from django.db import connection, transaction

    from accounts.models import AccessToken, Account, Permission
    from contacts.models import Contact

    account = Account.objects.filter(metadata__bench="contacts_filter").first()
    if account is None:
        account = Account.objects.create(metadata={"bench": "contacts_filter"})
    token = AccessToken.objects.filter(account=account).first() or AccessToken.objects.create(
        account=account, created_by=account, permissions=[Permission.CONTACTS_READ]
    )
    have = Contact.objects.filter(account=account).count()
    if have != n or reload:
        print(f"loading {n:,} contacts (had {have:,}) ...", flush=True)
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM contacts_contact WHERE account_id = %s", [account.pk])
            cursor.execute(LOAD_SQL, {"account_id": account.pk, "n": n})
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE contacts_contact")
        print(f"loaded in {time.perf_counter() - started:.1f}s", flush=True)
    return account, token


def api_request(client, token: str, params: dict):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get("/api/contacts", params, HTTP_AUTHORIZATION=f"Bearer {token}")
        body = response.content
        elapsed = time.perf_counter() - started
    assert response.status_code == 200, (response.status_code, body[:500])
    return elapsed, response, captured.captured_queries


def raw_statements(queries: list[dict]) -> list[str]:
    """The COUNT and first-page SELECT the request ran (not the access-token lookup)."""
    return [query["sql"] for query in queries if "contacts_contact" in query["sql"]]


def run_raw(conn, statements: list[str]):
    started = time.perf_counter()
    results = [conn.execute(statement).fetchall() for statement in statements]
    return time.perf_counter() - started, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", nargs="?", type=int, default=1_000_000, help="number of contacts (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per filter (median reported)")
    parser.add_argument("--reload", action="store_true", help="reload the contacts even if N are there")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/contacts_filter.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    ensure_database(url)
    setup_django(url)

    import psycopg
    from django.test import Client

    account, token = ensure_contacts(args.n, args.reload)
    client = Client()
    results = {}
    with psycopg.connect(url, autocommit=True) as raw:
        for name, params in FILTERS.items():
            _, response, queries = api_request(client, token.token, params)  # warm-up, and the SQL it runs
            statements = raw_statements(queries)
            _, (count_rows, page_rows) = run_raw(raw, statements)
            assert int(response["Total"]) == count_rows[0][0], "raw COUNT differs from the Total header"
            assert [item["id"] for item in response.json()] == [row[0] for row in page_rows], "first pages differ"
            api_times, raw_times = [], []
            for _ in range(args.runs):
                api_times.append(api_request(client, token.token, params)[0])
                raw_times.append(run_raw(raw, statements)[0])
            api_ms = statistics.median(api_times) * 1000
            raw_ms = statistics.median(raw_times) * 1000
            results[name] = {
                "params": params,
                "total": int(response["Total"]),
                "api_median_ms": round(api_ms, 2),
                "raw_sql_median_ms": round(raw_ms, 2),
                "ratio": round(api_ms / raw_ms, 3),
                "sql": statements,
            }
            print(
                f"{name:18} Total={response['Total']:>8}  api {api_ms:9.2f} ms  raw {raw_ms:9.2f} ms  "
                f"ratio {api_ms / raw_ms:5.2f}x",
                flush=True,
            )

    report = {
        "n": args.n,
        "runs": args.runs,
        "target_ratio": 2.0,
        "all_within_target": all(item["ratio"] <= 2.0 for item in results.values()),
        "postgresql": psycopg.connect(url).execute("SHOW server_version").fetchone()[0],
        "python": platform.python_version(),
        "results": results,
    }
    write_results("contacts_filter", report, markdown(report))


def markdown(report: dict) -> str:
    lines = [
        "# GET /api/contacts with metadata filters vs the same SQL run directly",
        "",
        f"{report['n']:,} contacts in one account, PostgreSQL {report['postgresql']}, Python {report['python']}; "
        f"medians of {report['runs']} runs; first page (25) plus the Total header. "
        "API = in-process Django test Client (routing, auth, filters, ORM, serialisation); raw = the COUNT and page "
        "SELECT that request ran, executed with psycopg. Produced by `bench/contacts_filter.py`.",
        "",
        "| filter | query | Total | API ms | raw SQL ms | API / raw |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, item in report["results"].items():
        query = "&".join(
            f"{key}={value}"
            for key, values in item["params"].items()
            for value in (values if isinstance(values, list) else [values])
        )
        lines.append(
            f"| {name} | `{query}` | {item['total']:,} | {item['api_median_ms']:.1f} | {item['raw_sql_median_ms']:.1f} "
            f"| {item['ratio']:.2f}x |"
        )
    lines += ["", f"Target: API within 2x of raw SQL — {'met' if report['all_within_target'] else 'NOT met'}.", ""]
    lines += ["## SQL", ""]
    for name, item in report["results"].items():
        lines += [f"### {name}", "", "```sql", *item["sql"], "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
