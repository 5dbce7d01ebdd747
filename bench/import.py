"""Benchmark: the contact CSV import against PostgreSQL's COPY of the same file.

    .venv/bin/python bench/import.py [N] [--keep-file]

Generates a CSV of N rows (default 1,000,000): msisdn plus name, gender, age:number, registered:boolean,
date_of_birth:date and tags:list, with 0.1% bad rows and 0.5% repeated numbers. Then, in the PostgreSQL database of
DATABASE_URL (default postgres://postgres@127.0.0.1:5432/scfm_bench_d, created when missing), times

  copy    COPY ... FROM STDIN (FORMAT csv, HEADER) of the file into a plain staging table (text columns, no indexes)
  insert  contacts.imports.import_contacts (what `manage.py import_contacts` and the API's task run) into an
          account with no contacts: every row is an INSERT
  update  the same import again: every row is an ON CONFLICT merge into an existing contact
  sql     for reference, the same upsert done by PostgreSQL alone: COPY into a staging table, then one
          INSERT ... SELECT (typed jsonb built in SQL, last row per number) ... ON CONFLICT into a second account;
          the floor any import into the indexed contacts table can reach from this file

each from the same client process, and writes rows/second and the import/COPY ratio to bench/results/import.json
and .md. Target: the import within 3x of COPY.
"""

import argparse
import csv
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scfm_bench_d"
HEADER = ["msisdn", "name", "gender", "age:number", "registered:boolean", "date_of_birth:date", "tags:list"]
STAGING = "bench_import_staging"
TARGET_RATIO = 3.0


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scfm.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def generate(path: Path, n: int) -> None:
    """N data rows; numbers are unique apart from the 0.5% repeats, 0.1% of rows are bad."""
    rng = random.Random(42)
    districts = [str(1400 + i) for i in range(40)]
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for i in range(n):
            roll = rng.random()
            if roll < 0.001:
                msisdn = "12345"  # rejected: not a possible number
            elif roll < 0.006 and i:
                msisdn = f"+2526{rng.randrange(i):08d}"  # a number seen earlier in the file
            elif roll < 0.3:
                msisdn = f"2526{i:08d}"  # no plus sign
            else:
                msisdn = f"+2526{i:08d}"
            writer.writerow(
                [
                    msisdn,
                    f"Contact {i}",
                    "f" if i % 2 else "m",
                    10 + i % 80,
                    "yes" if i % 3 else "no",
                    f"{1950 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    "|".join(rng.sample(districts, 1 + i % 3)),
                ]
            )


def time_copy(url: str, path: Path) -> float:
    import psycopg

    columns = ", ".join(f'"{name.split(":")[0]}" text' for name in HEADER)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {STAGING}")
        conn.execute(f"CREATE TABLE {STAGING} ({columns})")
        started = time.perf_counter()
        with conn.cursor() as cursor, path.open("rb") as file:
            with cursor.copy(f"COPY {STAGING} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                for block in iter(lambda: file.read(1 << 20), b""):
                    copy.write(block)
        elapsed = time.perf_counter() - started
        conn.execute(f"DROP TABLE {STAGING}")
    return elapsed


SQL_UPSERT = f"""
INSERT INTO contacts_contact AS c (account_id, msisdn, metadata, created_at, updated_at)
SELECT DISTINCT ON (msisdn) %s, msisdn, metadata, now(), now() FROM (
    SELECT n, CASE WHEN msisdn LIKE '+%%' THEN msisdn ELSE '+' || msisdn END AS msisdn,
           jsonb_build_object('name', name, 'gender', gender, 'age', age::numeric, 'registered', registered = 'yes',
                              'date_of_birth', date_of_birth, 'tags', to_jsonb(string_to_array(tags, '|'))) AS metadata
    FROM (SELECT row_number() OVER () AS n, * FROM {STAGING}) AS numbered
    WHERE length(msisdn) >= 12
) AS typed
ORDER BY msisdn, n DESC
ON CONFLICT (account_id, msisdn) DO UPDATE SET metadata = c.metadata || EXCLUDED.metadata, updated_at = now()
"""


def time_sql_floor(url: str, path: Path, account_id: int) -> float:
    """COPY into staging, then one set-based upsert in SQL: the database's own floor for this import."""
    import psycopg

    columns = ", ".join(f'"{name.split(":")[0]}" text' for name in HEADER)
    with psycopg.connect(url) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {STAGING}")
        conn.execute(f"CREATE TABLE {STAGING} ({columns})")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor, path.open("rb") as file:
            with cursor.copy(f"COPY {STAGING} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                for block in iter(lambda: file.read(1 << 20), b""):
                    copy.write(block)
            cursor.execute(SQL_UPSERT, [account_id])
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute(f"DROP TABLE {STAGING}")
        conn.commit()
    return elapsed


def time_import(account, path: Path):
    from contacts import imports

    started = time.perf_counter()
    with path.open("rb") as binary:
        result = imports.import_contacts(account=account, stream=imports.open_text(binary))
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", nargs="?", type=int, default=1_000_000, help="rows in the CSV file (default 1,000,000)")
    parser.add_argument("--keep-file", action="store_true", help="keep the generated CSV file")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/import.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    ensure_database(url)
    setup_django(url)

    import psycopg
    from django.db import connection

    from accounts.models import Account

    path = Path(tempfile.mkdtemp(prefix="scfm-bench-import-")) / "contacts.csv"
    print(f"generating {args.n:,} rows into {path} ...", flush=True)
    generate(path, args.n)
    size_mb = path.stat().st_size / 1e6

    with connection.cursor() as cursor:  # a dedicated bench database: start from an empty contacts table
        cursor.execute("TRUNCATE contacts_contact CASCADE")
    account = Account.objects.filter(metadata__bench="import").first() or Account.objects.create(
        metadata={"bench": "import"}
    )
    copy_seconds = time_copy(url, path)
    print(f"copy    {copy_seconds:7.2f}s  {args.n / copy_seconds:12,.0f} rows/s", flush=True)
    runs = {}
    for name in ("insert", "update"):
        seconds, result = time_import(account, path)
        runs[name] = {
            "seconds": round(seconds, 3),
            "rows_per_second": round(args.n / seconds),
            "ratio_to_copy": round(seconds / copy_seconds, 3),
            "created": result.created_count,
            "updated": result.updated_count,
            "rejected": result.error_count,
        }
        print(
            f"{name:7} {seconds:7.2f}s  {args.n / seconds:12,.0f} rows/s  {seconds / copy_seconds:5.2f}x COPY  "
            f"created {result.created_count:,} updated {result.updated_count:,} rejected {result.error_count:,}",
            flush=True,
        )
    floor_account = Account.objects.filter(metadata__bench="import_sql").first() or Account.objects.create(
        metadata={"bench": "import_sql"}
    )
    floor_seconds = time_sql_floor(url, path, floor_account.pk)
    print(
        f"sql     {floor_seconds:7.2f}s  {args.n / floor_seconds:12,.0f} rows/s  "
        f"{floor_seconds / copy_seconds:5.2f}x COPY",
        flush=True,
    )
    if not args.keep_file:
        path.unlink()
        path.parent.rmdir()

    report = {
        "n": args.n,
        "file_mb": round(size_mb, 1),
        "columns": HEADER,
        "target_ratio": TARGET_RATIO,
        "copy": {"seconds": round(copy_seconds, 3), "rows_per_second": round(args.n / copy_seconds)},
        "import": runs,
        "sql_floor": {
            "seconds": round(floor_seconds, 3),
            "rows_per_second": round(args.n / floor_seconds),
            "ratio_to_copy": round(floor_seconds / copy_seconds, 3),
        },
        "insert_ratio_to_sql_floor": round(runs["insert"]["seconds"] / floor_seconds, 3),
        "insert_within_target": runs["insert"]["ratio_to_copy"] <= TARGET_RATIO,
        "postgresql": psycopg.connect(url).execute("SHOW server_version").fetchone()[0],
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "import.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "import.md").write_text(markdown(report))
    print(f"wrote {RESULTS / 'import.json'} and .md")


def markdown(report: dict) -> str:
    copy = report["copy"]
    lines = [
        "# Contact CSV import vs COPY of the same file",
        "",
        f"{report['n']:,} rows ({report['file_mb']} MB; columns {', '.join(report['columns'])}), "
        f"PostgreSQL {report['postgresql']}, Python {report['python']}, {report['cpus']} CPUs. "
        "COPY loads the file into a plain staging table of text columns without indexes; the import parses, "
        "types and validates every row, normalises the msisdn and upserts 10,000-row chunks into contacts_contact "
        "(unique, timestamp and GIN indexes). Produced by `bench/import.py`.",
        "",
        "| run | seconds | rows/s | x COPY |",
        "|---|---:|---:|---:|",
        f"| COPY into staging table | {copy['seconds']:.2f} | {copy['rows_per_second']:,} | 1.00 |",
    ]
    for name, run in report["import"].items():
        label = {"insert": "import, new contacts", "update": "import again, merging into existing contacts"}[name]
        lines.append(f"| {label} | {run['seconds']:.2f} | {run['rows_per_second']:,} | {run['ratio_to_copy']:.2f} |")
    floor = report["sql_floor"]
    lines.append(
        f"| reference: COPY + one INSERT ... SELECT ... ON CONFLICT in SQL | {floor['seconds']:.2f} | "
        f"{floor['rows_per_second']:,} | {floor['ratio_to_copy']:.2f} |"
    )
    verdict = "within" if report["insert_within_target"] else "outside"
    lines += [
        "",
        f"Target: within {report['target_ratio']:g}x of COPY; the first import is {verdict} it. "
        f"It takes {report['insert_ratio_to_sql_floor']:.2f}x the time of the SQL-only upsert, which is the floor "
        "for writing these rows into the indexed contacts table.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
