"""What every benchmark script needs: the results folder, a PostgreSQL database of its own, and Django set up on it."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database `url` names unless it exists."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str, *, settings_module: str = "scfm.settings", env: dict | None = None) -> None:
    """Point Django at `url` (plus any extra environment), set it up and migrate."""
    os.environ["DATABASE_URL"] = url
    os.environ.update(env or {})
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def write_results(name: str, data: dict, markdown: str) -> None:
    """bench/results/<name>.json (the figures) and <name>.md (the same, for people)."""
    import json

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(f"wrote {RESULTS / name}.json and .md")


def start_server(command: list[str], *, port: int, env: dict, probe: str = "/health/live", seconds: float = 30):
    """Start a server process (its own session, so it can be killed whole) and return it once GET `probe` on
    127.0.0.1:`port` answers; kill it and raise RuntimeError if it does not within `seconds`."""
    import subprocess
    import time
    from http.client import HTTPConnection

    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", probe)
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command[0]} did not answer on port {port} within {seconds:g} s")
