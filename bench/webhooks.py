"""Benchmark: the status-callback webhook against a bare Django view, both on the production server.

    .venv/bin/python bench/webhooks.py [--calls 6000] [--seconds 10] [--rate 200]
        [--worker-class gthread] [--workers 2] [--threads 4]

In the PostgreSQL database of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/scfm_bench_c, created and
migrated when missing) it creates a fresh account with a running callout of `--calls` remotely queued calls, starts
gunicorn on 127.0.0.1 (by default as the product runs it, `make run` and docker: 2 gthread workers x 4 threads;
settings bench.settings = the product's settings plus the baselines of bench/bare_urls.py) and measures, over
loopback only:

  throughput  wrk (closed loop, 2 threads, 32 connections, `--seconds`) against /bench/bare (constant TwiML), against
              /bench/floor (stores each posted body with one INSERT: the least a webhook that keeps every callback
              can do) and against POST /twilio_webhooks/phone_call_events with signed status callbacks (ringing,
              in-progress, completed for distinct calls: every request stores an event and moves a call), with the
              CPU milliseconds per request spent by the server and by PostgreSQL (read from /proc)
  latency     an open-loop generator at `--rate` requests/second for `--seconds` (latency measured from each
              request's scheduled start, so a stall is not hidden) against both

then checks the database (one event per accepted callback, every completed call `completed` with its duration, and
how many database sessions the server opened: persistent connections keep that at about one per worker thread) and
writes bench/results/webhooks.json and .md, with the load average at the start (the machine may be shared).
Targets: webhook throughput >= half the bare view's, p99 < 50 ms at 200 requests/second. Needs `wrk`
(apt-get install wrk).

`--in-process` measures instead, without a server or wrk, the status callbacks of `--calls` calls sent through the
Django test client: SQL statements per callback (one of each status) and wall / CPU milliseconds per callback (best
of three rounds), written to bench/results/webhooks_in_process.json. It is the quick, less noise-prone check of the
handler's own cost.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection

from common import RESULTS, ROOT, ensure_database, setup_django, start_server

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scfm_bench_c"
WEBHOOK = "/twilio_webhooks/phone_call_events"
BARE = "/bench/bare"
FLOOR = "/bench/floor"
STATUSES = ("ringing", "in-progress", "completed")
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0


def create_calls(count: int):
    """A fresh account and `count` remotely queued calls with known CallSids; returns (account, [CallSid])."""
    from accounts.models import Account
    from callouts.models import Callout, CalloutParticipation
    from contacts.models import Contact
    from phone_calls.models import PhoneCall

    run = uuid.uuid4().hex
    account = Account.objects.create(twilio_account_sid=f"AC{run}", twilio_auth_token=uuid.uuid4().hex)
    callout = Callout.objects.create(account=account, call_flow_logic="CallFlowLogic::HelloWorld")
    contacts = Contact.objects.bulk_create(
        [Contact(account=account, msisdn=f"+2526{index:08d}") for index in range(count)], batch_size=2000
    )
    participations = CalloutParticipation.objects.bulk_create(
        [
            CalloutParticipation(
                callout=callout,
                contact=contact,
                msisdn=contact.msisdn,
                call_flow_logic=callout.call_flow_logic,
                phone_calls_count=1,
            )
            for contact in contacts
        ],
        batch_size=2000,
    )
    sids = [f"CA{run[:8]}{index:024d}" for index in range(count)]
    PhoneCall.objects.bulk_create(
        [
            PhoneCall(
                account=account,
                callout=callout,
                callout_participation=participation,
                contact_id=participation.contact_id,
                msisdn=participation.msisdn,
                call_flow_logic=callout.call_flow_logic,
                status="remotely_queued",
                remote_call_id=sid,
            )
            for participation, sid in zip(participations, sids, strict=True)
        ],
        batch_size=2000,
    )
    return account, sids


def create_floor_table() -> None:
    """The table of /bench/floor (bench/bare_urls.py): raw callback bodies, as a durable store-then-answer webhook
    would keep them at the very least."""
    from django.db import connection

    from bench.bare_urls import FLOOR_TABLE

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (id bigserial PRIMARY KEY, body text NOT NULL)")


def callback_requests(account, sids: list[str], public_url: str) -> list[tuple[str, str, str]]:
    """(path, form body, X-Twilio-Signature) for each call's ringing, in-progress and completed callbacks."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(account.twilio_auth_token)
    requests = []
    for status in STATUSES:
        for sid in sids:
            params = {
                "CallSid": sid,
                "AccountSid": account.twilio_account_sid,
                "From": "1234",
                "To": "+252660000000",
                "ApiVersion": "2010-04-01",
                "Direction": "outbound-api",
                "CallStatus": status,
                "CallbackSource": "call-progress-events",
            }
            if status == "completed":
                params["CallDuration"] = "30"
            body = urllib.parse.urlencode(params)
            requests.append((WEBHOOK, body, validator.compute_signature(public_url + WEBHOOK, params)))
    return requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_sessions(url: str) -> int:
    """Sessions ever opened on the bench database (pg_stat_database.sessions, PostgreSQL 14+)."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [name]).fetchone()[0]


def start_gunicorn(port: int, server: dict, env: dict) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "scfm.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        server["worker_class"],
        "--workers",
        str(server["workers"]),
        "--threads",
        str(server["threads"]),
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
    ]
    return start_server(command, port=port, env=env, probe="/health/live")


WRK_SCRIPT = """
local requests = {}
%(table)s
local count = #requests
local threads = 0
local index = 0
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
function init(args)
  index = offset * math.floor(count / 2)
end
function request()
  index = index + 1
  local item = requests[((index - 1) %% count) + 1]
  return wrk.format("POST", item[1], {["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = item[3]}, item[2])
end
function done(summary, latency, requests_)
  io.write(string.format('WRK_RESULT {"requests": %%d, "duration_us": %%d, "status_errors": %%d, ' ..
    '"socket_errors": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cpu_seconds_by_role(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server (gunicorn's master and workers) and by PostgreSQL's processes (read from
    /proc; this machine only)."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals = {"server": 0.0, "database": 0.0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                name, fields = stat.read().rsplit(")", 1)
        except OSError:
            continue
        fields = fields.split()
        role = None
        if int(entry) == server_pid or int(fields[1]) == server_pid:  # fields[1]: the parent's pid
            role = "server"
        elif name.endswith("(postgres"):
            role = "database"
        if role:
            totals[role] += (int(fields[11]) + int(fields[12])) / ticks
    return totals


def run_wrk_measured(base_url: str, requests: list[tuple[str, str, str]], seconds: int, server_pid: int) -> dict:
    """run_wrk, plus the server's and the database's CPU milliseconds per request over the run."""
    before = cpu_seconds_by_role(server_pid)
    result = run_wrk(base_url, requests, seconds)
    after = cpu_seconds_by_role(server_pid)
    requests_done = max(result["requests"], 1)
    for role in ("server", "database"):
        result[f"{role}_cpu_ms_per_request"] = round((after[role] - before[role]) * 1000 / requests_done, 3)
    return result


def run_wrk(base_url: str, requests: list[tuple[str, str, str]], seconds: int) -> dict:
    table = "\n".join(
        f"requests[{number}] = {{{lua_string(path)}, {lua_string(body)}, {lua_string(sig)}}}"
        for number, (path, body, sig) in enumerate(requests, start=1)
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"table": table})
    try:
        output = subprocess.run(
            ["wrk", "-t2", "-c32", f"-d{seconds}s", "--timeout", "5s", "-s", script.name, base_url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in output.splitlines() if line.startswith("WRK_RESULT "))
    result = json.loads(line.split(" ", 1)[1])
    result["requests_per_second"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    result["p50_ms"] = round(result.pop("p50_us") / 1000, 2)
    result["p99_ms"] = round(result.pop("p99_us") / 1000, 2)
    return result


def open_loop(port: int, requests: list[tuple[str, str, str]], rate: float, seconds: int) -> dict:
    """Send requests[i] at start + i/rate, from a pool; latency counts from the scheduled start."""
    total = min(int(rate * seconds), len(requests))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    local = threading.local()
    start = time.monotonic() + 0.5

    def send(number: int) -> None:
        scheduled = start + number / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        path, body, sig = requests[number]
        try:
            connection = getattr(local, "connection", None) or HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(
                "POST",
                path,
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig},
            )
            response = connection.getresponse()
            response.read()
            status = response.status
            local.connection = None if response.will_close else connection
        except OSError:
            status, local.connection = 0, None
        elapsed = time.monotonic() - scheduled
        with lock:
            latencies.append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1

    with ThreadPoolExecutor(max_workers=48) as pool:
        list(pool.map(send, range(total)))
    wall = time.monotonic() - start
    latencies.sort()

    def percentile(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000, 2)

    return {
        "requests": total,
        "achieved_rate": round(total / wall, 1),
        "statuses": {str(key): value for key, value in sorted(statuses.items())},
        "p50_ms": percentile(50),
        "p90_ms": percentile(90),
        "p99_ms": percentile(99),
        "max_ms": round(latencies[-1] * 1000, 2),
    }


def verify(account, sids: list[str], accepted: int) -> dict:
    from phone_calls.models import PhoneCall, RemotePhoneCallEvent

    events = RemotePhoneCallEvent.objects.filter(phone_call__account=account).count()
    calls = PhoneCall.objects.filter(account=account, remote_call_id__in=sids)
    return {
        "events_stored": events,
        "callbacks_accepted": accepted,
        "no_accepted_callback_lost": events >= accepted,
        "calls_completed": calls.filter(status="completed", duration=30).count(),
        "calls_moved_backwards": calls.filter(status="remotely_queued", remote_status__isnull=False).count(),
    }


def write_results(result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "webhooks.json").write_text(json.dumps(result, indent=2) + "\n")
    t, lat = result["throughput"], result["latency_at_rate"]
    server = result["server"]
    load = ", ".join(f"{value:.2f}" for value in result["load_average_at_start"])
    lines = [
        "# Webhook benchmark",
        "",
        f"Run {result['ran_at']} on {result['machine']} ({result['cpus']} CPUs, load average {load} at the start), "
        f"gunicorn {server['workers']} {server['worker_class']} workers x {server['threads']} threads on 127.0.0.1, "
        f"PostgreSQL `{result['database']}`. Produced by `bench/webhooks.py`.",
        "",
        "## Throughput (wrk, 2 threads, 32 connections, closed loop)",
        "",
        "| endpoint | requests | req/s | p50 ms | p99 ms | non-2xx | socket errors | server CPU ms/req "
        "| database CPU ms/req |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("bare", "floor", "webhook"):
        row = t[name]
        lines.append(
            f"| {name} | {row['requests']} | {row['requests_per_second']} | {row['p50_ms']} | {row['p99_ms']} | "
            f"{row['status_errors']} | {row['socket_errors']} | {row['server_cpu_ms_per_request']} | "
            f"{row['database_cpu_ms_per_request']} |"
        )
    lines += [
        "",
        f"Webhook / bare throughput: **{t['ratio']}** (target >= {TARGET_RATIO}: "
        f"{'met' if t['ratio'] >= TARGET_RATIO else 'NOT met'}).",
        "",
        f"Floor / bare throughput: **{t['floor_ratio']}**. The floor (/bench/floor) stores each posted body with one "
        "INSERT and answers: no signature, no call update. It is the least any webhook can do that keeps every "
        "callback before answering.",
        "",
        f"## Latency at {result['rate']} req/s (open loop, from each request's scheduled start)",
        "",
        "| endpoint | requests | achieved req/s | statuses | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ("bare", "webhook"):
        row = lat[name]
        lines.append(
            f"| {name} | {row['requests']} | {row['achieved_rate']} | {row['statuses']} | {row['p50_ms']} | "
            f"{row['p90_ms']} | {row['p99_ms']} | {row['max_ms']} |"
        )
    lines += [
        "",
        f"Webhook p99 at {result['rate']} req/s: **{lat['webhook']['p99_ms']} ms** (target < {TARGET_P99_MS} ms: "
        f"{'met' if lat['webhook']['p99_ms'] < TARGET_P99_MS else 'NOT met'}).",
        "",
        "## Database check after the run",
        "",
        *[f"- {key}: {value}" for key, value in result["verification"].items()],
        "",
    ]
    (RESULTS / "webhooks.md").write_text("\n".join(lines))


def in_process(calls: int) -> dict:
    """Status callbacks through the Django test client: statements per callback and ms per callback."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    account, sids = create_calls(calls)
    requests = callback_requests(account, sids, "http://testserver")
    client = Client()

    def send(request: tuple[str, str, str]) -> None:
        path, body, signature = request
        response = client.post(
            path, body, content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature
        )
        assert response.status_code == 200, response.content

    send(requests[1])  # warm-up: the second call's ringing (connection, caches)
    statements = {}
    for index, status in enumerate(STATUSES):  # the first call's callbacks, one per status
        with CaptureQueriesContext(connection) as queries:
            send(requests[index * calls])
        statements[status] = [query["sql"].split(None, 1)[0] for query in queries.captured_queries]
    rounds = []
    remaining = [request for index, request in enumerate(requests) if index % calls and index != 1]
    size = len(remaining) // 3
    for number in range(3):
        chunk = remaining[number * size : (number + 1) * size]
        wall, cpu = time.perf_counter(), time.process_time()
        for request in chunk:
            send(request)
        rounds.append(
            (
                round((time.perf_counter() - wall) * 1000 / len(chunk), 2),
                round((time.process_time() - cpu) * 1000 / len(chunk), 2),
            )
        )
    return {
        "ran_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        "callbacks_per_round": size,
        "statements_per_callback": {status: len(sql) for status, sql in statements.items()},
        "statements": statements,
        "wall_ms_per_callback": min(wall for wall, _cpu in rounds),
        "cpu_ms_per_callback": min(cpu for _wall, cpu in rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=6000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--in-process", action="store_true", help="profile the handler through the test client")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if args.in_process:
        ensure_database(url)
        setup_django(url, settings_module="bench.settings", env={"SCFM_PUBLIC_URL": "http://testserver"})
        result = in_process(args.calls)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "webhooks_in_process.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        return
    server_config = {"worker_class": args.worker_class, "workers": args.workers, "threads": args.threads}
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    ensure_database(url)
    setup_django(url, settings_module="bench.settings", env={"SCFM_PUBLIC_URL": public_url})
    account, sids = create_calls(args.calls)
    # throughput uses two thirds of the calls; the latency run gets calls of its own
    split = len(sids) * 2 // 3
    throughput_requests = callback_requests(account, sids[:split], public_url)
    latency_requests = callback_requests(account, sids[split:], public_url)
    bare_requests = [(BARE, "CallSid=x", "unsigned")]
    floor_requests = [(FLOOR, body, signature) for _path, body, signature in throughput_requests]
    create_floor_table()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": url,
        "SCFM_PUBLIC_URL": public_url,
        "SCFM_LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        "PYTHONPATH": str(ROOT),
    }
    load_average = os.getloadavg()
    sessions_before = database_sessions(url)
    server = start_gunicorn(port, server_config, env)
    try:
        run_wrk(public_url, bare_requests, 2)  # warm-up: workers import and connect
        throughput = {
            "bare": run_wrk_measured(public_url, bare_requests, args.seconds, server.pid),
            "floor": run_wrk_measured(public_url, floor_requests, args.seconds, server.pid),
            "webhook": run_wrk_measured(public_url, throughput_requests, args.seconds, server.pid),
        }
        throughput["ratio"] = round(
            throughput["webhook"]["requests_per_second"] / throughput["bare"]["requests_per_second"], 3
        )
        throughput["floor_ratio"] = round(
            throughput["floor"]["requests_per_second"] / throughput["bare"]["requests_per_second"], 3
        )
        latency = {
            "bare": open_loop(port, bare_requests * int(args.rate * args.seconds), args.rate, args.seconds),
            "webhook": open_loop(port, latency_requests, args.rate, args.seconds),
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    server_sessions = database_sessions(url) - sessions_before - 1  # less our own probe

    accepted = (
        throughput["webhook"]["requests"]
        - throughput["webhook"]["status_errors"]
        + latency["webhook"]["statuses"].get("200", 0)
    )
    result = {
        "ran_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "server": server_config,
        "load_average_at_start": [round(value, 2) for value in load_average],
        "database": url.rsplit("/", 1)[1],
        "calls": args.calls,
        "seconds": args.seconds,
        "rate": args.rate,
        "throughput": throughput,
        "latency_at_rate": latency,
        "verification": {**verify(account, sids, accepted), "database_sessions_opened_by_server": server_sessions},
        "targets": {
            "throughput_ratio_min": TARGET_RATIO,
            "p99_ms_max_at_rate": TARGET_P99_MS,
            "throughput_met": throughput["ratio"] >= TARGET_RATIO,
            "p99_met": latency["webhook"]["p99_ms"] < TARGET_P99_MS,
        },
    }
    write_results(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
