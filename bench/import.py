"""Benchmark: the contact CSV import against PostgreSQL's COPY of the same file.

    .venv/bin/python bench/import.py [--rows N] [--keep-file]

Generates a CSV of N rows (default 1,000,000): msisdn plus name, gender, age:number, registered:boolean,
date_of_birth:date and tags:list, with 0.1% bad rows and 0.5% repeated numbers. Then, in the PostgreSQL database of
DATABASE_URL (default postgres://postgres@127.0.0.1:5432/scfm_bench_h, created when missing), times

  copy    COPY ... FROM STDIN (FORMAT csv, HEADER) of the file into a plain staging table (text columns, no indexes)
  copy_contacts
          the apples-to-apples baseline: COPY of the rows the import writes (msisdn already normalised, one row per
          number, metadata as JSON, account_id and timestamps) into an empty table made with
          (LIKE contacts_contact INCLUDING ALL) plus the account foreign key: the same columns, unique
          (account, msisdn), timestamp and GIN indexes as contacts_contact; the rows come from the first import
          (COPY ... TO, untimed), so COPY writes exactly what the import wrote
  insert  contacts.imports.import_contacts (what `manage.py import_contacts` and the API's task run) into an
          account with no contacts: every row is an INSERT
  update  the same import again: every row is an ON CONFLICT merge into an existing contact
  sql     for reference, the same upsert done by PostgreSQL alone: COPY into a staging table, then one
          INSERT ... SELECT (typed jsonb built in SQL, last row per number) ... ON CONFLICT into a second account;
          the floor any import into the indexed contacts table can reach from this file

each from the same client process, and writes rows/second and the import/COPY ratio to bench/results/import.json
and .md, with the import's ratio to both COPYs. Target: the import within 3x of COPY.

    .venv/bin/python bench/import.py --rows 1000000
"""

import argparse
import csv
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from common import ensure_database, setup_django, write_results

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scfm_bench_h"
HEADER = ["msisdn", "name", "gender", "age:number", "registered:boolean", "date_of_birth:date", "tags:list"]
STAGING = "bench_import_staging"
LIKE_CONTACTS = "bench_import_contacts_like"
CONTACT_COLUMNS = "account_id, msisdn, metadata, created_at, updated_at"
TARGET_RATIO = 3.0


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


def export_contacts(url: str, account_id: int, path: Path) -> int:
    """The account's contacts as the import wrote them, to a CSV file for COPY (untimed); returns the row count."""
    import psycopg

    with psycopg.connect(url) as conn, conn.cursor() as cursor, path.open("wb") as file:
        rows = 0
        query = f"COPY (SELECT {CONTACT_COLUMNS} FROM contacts_contact WHERE account_id = %s ORDER BY id) TO STDOUT"
        with cursor.copy(query + " WITH (FORMAT csv)", [account_id]) as copy:
            for block in copy:
                file.write(block)
                rows += bytes(block).count(b"\n")
        return rows


def time_copy_contacts(url: str, path: Path) -> float:
    """COPY the import's own rows into an empty table shaped and indexed exactly like contacts_contact."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {LIKE_CONTACTS}")
        conn.execute(f"CREATE TABLE {LIKE_CONTACTS} (LIKE contacts_contact INCLUDING ALL)")
        conn.execute(
            f"ALTER TABLE {LIKE_CONTACTS} ADD FOREIGN KEY (account_id) REFERENCES accounts_account (id) "
            "DEFERRABLE INITIALLY DEFERRED"
        )
        indexes = conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [LIKE_CONTACTS]).fetchone()[0]
        assert (
            indexes
            == conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'contacts_contact'").fetchone()[0]
        ), "the LIKE table must carry every index of contacts_contact"
        started = time.perf_counter()
        with conn.cursor() as cursor, path.open("rb") as file:
            with cursor.copy(f"COPY {LIKE_CONTACTS} ({CONTACT_COLUMNS}) FROM STDIN WITH (FORMAT csv)") as copy:
                for block in iter(lambda: file.read(1 << 20), b""):
                    copy.write(block)
        elapsed = time.perf_counter() - started
        conn.execute(f"DROP TABLE {LIKE_CONTACTS}")
    return elapsed


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
    from contacts import csv_reading, imports

    started = time.perf_counter()
    with path.open("rb") as binary:
        result = imports.import_contacts(account=account, stream=csv_reading.open_text(binary))
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", nargs="?", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the CSV file (default 1,000,000)")
    parser.add_argument("--keep-file", action="store_true", help="keep the generated CSV files")
    args = parser.parse_args()
    n = args.n or args.rows

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/import.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    ensure_database(url)
    setup_django(url)

    import psycopg
    from django.db import connection

    from accounts.models import Account
    from contacts import csv_reading

    directory = Path(tempfile.mkdtemp(prefix="scfm-bench-import-"))
    path, typed_path = directory / "contacts.csv", directory / "contacts_typed.csv"
    print(f"generating {n:,} rows into {path} ...", flush=True)
    generate(path, n)
    size_mb = path.stat().st_size / 1e6

    with connection.cursor() as cursor:  # a dedicated bench database: start from an empty contacts table
        cursor.execute("TRUNCATE contacts_contact CASCADE")
    account = Account.objects.filter(metadata__bench="import").first() or Account.objects.create(
        metadata={"bench": "import"}
    )
    copy_seconds = time_copy(url, path)
    print(f"copy    {copy_seconds:7.2f}s  {n / copy_seconds:12,.0f} rows/s", flush=True)
    runs = {}
    copy_contacts = None
    for name in ("insert", "update"):
        seconds, result = time_import(account, path)
        runs[name] = {
            "seconds": round(seconds, 3),
            "rows_per_second": round(n / seconds),
            "ratio_to_copy": round(seconds / copy_seconds, 3),
            "created": result.created_count,
            "updated": result.updated_count,
            "rejected": result.error_count,
        }
        print(
            f"{name:7} {seconds:7.2f}s  {n / seconds:12,.0f} rows/s  {seconds / copy_seconds:5.2f}x COPY  "
            f"created {result.created_count:,} updated {result.updated_count:,} rejected {result.error_count:,}",
            flush=True,
        )
        if name == "insert":  # the apples-to-apples COPY of exactly the rows this import wrote
            written = export_contacts(url, account.pk, typed_path)
            seconds = time_copy_contacts(url, typed_path)
            copy_contacts = {
                "seconds": round(seconds, 3),
                "rows_written": written,
                "rows_per_second": round(n / seconds),
                "file_mb": round(typed_path.stat().st_size / 1e6, 1),
            }
            print(f"copy_contacts {seconds:7.2f}s  {n / seconds:12,.0f} rows/s  ({written:,} rows)", flush=True)
    for run in runs.values():
        run["ratio_to_copy_contacts"] = round(run["seconds"] / copy_contacts["seconds"], 3)
    floor_account = Account.objects.filter(metadata__bench="import_sql").first() or Account.objects.create(
        metadata={"bench": "import_sql"}
    )
    floor_seconds = time_sql_floor(url, path, floor_account.pk)
    print(
        f"sql     {floor_seconds:7.2f}s  {n / floor_seconds:12,.0f} rows/s  {floor_seconds / copy_seconds:5.2f}x COPY",
        flush=True,
    )
    if not args.keep_file:
        path.unlink()
        typed_path.unlink()
        directory.rmdir()

    report = {
        "n": n,
        "file_mb": round(size_mb, 1),
        "columns": HEADER,
        "target_ratio": TARGET_RATIO,
        "chunk_size": csv_reading.CHUNK_SIZE,
        "copy": {"seconds": round(copy_seconds, 3), "rows_per_second": round(n / copy_seconds)},
        "copy_contacts": copy_contacts,
        "import": runs,
        "sql_floor": {
            "seconds": round(floor_seconds, 3),
            "rows_per_second": round(n / floor_seconds),
            "ratio_to_copy": round(floor_seconds / copy_seconds, 3),
            "ratio_to_copy_contacts": round(floor_seconds / copy_contacts["seconds"], 3),
        },
        "insert_ratio_to_sql_floor": round(runs["insert"]["seconds"] / floor_seconds, 3),
        "insert_within_target": runs["insert"]["ratio_to_copy_contacts"] <= TARGET_RATIO,
        "insert_within_target_of_staging_copy": runs["insert"]["ratio_to_copy"] <= TARGET_RATIO,
        "postgresql": psycopg.connect(url).execute("SHOW server_version").fetchone()[0],
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    write_results("import", report, markdown(report))


def markdown(report: dict) -> str:
    copy, like = report["copy"], report["copy_contacts"]
    lines = [
        "# Contact CSV import vs COPY of the same rows",
        "",
        f"{report['n']:,} rows ({report['file_mb']} MB; columns {', '.join(report['columns'])}), "
        f"PostgreSQL {report['postgresql']}, Python {report['python']}, {report['cpus']} CPUs "
        f"(load average at the end {report['load_average_at_end']}). Produced by `bench/import.py`; rows/s are file "
        "rows per second for every line.",
        "",
        "- **COPY into a contacts-shaped table** (the baseline for the 3x target): the rows the import wrote "
        f"({like['rows_written']:,}: msisdn normalised, one row per number, metadata as JSON, account and "
        f"timestamps; {like['file_mb']} MB) COPYed into an empty `(LIKE contacts_contact INCLUDING ALL)` table "
        "with the account foreign key: the same unique (account, msisdn), timestamp and GIN metadata indexes.",
        "- **COPY into a staging table**: the raw file into text columns without any index (parsing only).",
        "- **import**: `contacts.imports.import_contacts` parses, types and validates every row, normalises the "
        f"msisdn and upserts {report['chunk_size']:,}-row chunks into contacts_contact, one transaction each "
        "(with synchronous_commit off: a chunk commits with its progress counters, so a lost commit is redone).",
        "",
        "| run | seconds | rows/s | x COPY contacts-shaped | x COPY staging |",
        "|---|---:|---:|---:|---:|",
        f"| COPY into a contacts-shaped table (all indexes) | {like['seconds']:.2f} | {like['rows_per_second']:,} "
        f"| 1.00 | {like['seconds'] / copy['seconds']:.2f} |",
        f"| COPY into a staging table (no indexes) | {copy['seconds']:.2f} | {copy['rows_per_second']:,} "
        f"| {copy['seconds'] / like['seconds']:.2f} | 1.00 |",
    ]
    for name, run in report["import"].items():
        label = {"insert": "import, new contacts", "update": "import again, merging into existing contacts"}[name]
        lines.append(
            f"| {label} | {run['seconds']:.2f} | {run['rows_per_second']:,} | {run['ratio_to_copy_contacts']:.2f} "
            f"| {run['ratio_to_copy']:.2f} |"
        )
    floor = report["sql_floor"]
    lines.append(
        f"| reference: COPY + one INSERT ... SELECT ... ON CONFLICT in SQL | {floor['seconds']:.2f} | "
        f"{floor['rows_per_second']:,} | {floor['ratio_to_copy_contacts']:.2f} | {floor['ratio_to_copy']:.2f} |"
    )
    verdict = "within" if report["insert_within_target"] else "outside"
    staging = "within" if report["insert_within_target_of_staging_copy"] else "outside"
    lines += [
        "",
        f"Target: within {report['target_ratio']:g}x of COPY. Against COPY into a contacts-shaped table (the same "
        f"rows, the same indexes) the first import is {verdict} it; against COPY into an unindexed staging table "
        f"it is {staging} it. The import takes {report['insert_ratio_to_sql_floor']:.2f}x the time of the SQL-only "
        "upsert, the floor for an upsert of this file into the indexed contacts table.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
