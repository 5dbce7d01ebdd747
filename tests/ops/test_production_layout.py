"""The production layout run for real, without Docker: every SCFM service docker-compose.yml defines (migrate, web,
the worker scaled to two, the scheduler) is started as a local process running exactly the service's `command`, with
the service's environment, against the suite's PostgreSQL database and Redis db. A simulated callout runs end to end
through the web port over HTTP; one worker is killed with SIGKILL in the middle; every participation must settle,
and no call is dialled twice.

What a container engine would do is translated, and nothing else:
- compose interpolation (`${NAME:-default}`, `$$`) with a `.env` the test writes (its database, Redis db, short
  scheduler interval); the image's `ENV` lines (Dockerfile) under the service's `environment`;
- service host names (`postgres`, `redis`) -> 127.0.0.1; the named volume's mount point (`/data`) -> a temporary
  directory, and each container's own `/tmp` -> one of its own; a published container port (`8000`) -> a free
  local port; `%h` and `$HOSTNAME` -> the replica's name;
- a container -> a process group (`start_new_session`), so killing "the container" kills the Celery pool with it;
- `depends_on`: migrate must exit 0 first; a service with a `healthcheck` is waited for by running its probe.

After the kill the clock moves on, twice, instead of the test waiting an hour: what the dead worker had reserved
stays unacknowledged in Redis until the broker's visibility timeout (1 h); the test puts back what was delivered
before the kill, as a live worker would then. The calls the worker left behind (a dial task lost between the claim
and the broker, a call stamped but not recorded, an outcome task never sent) are settled by the scheduler's sweeps
5 minutes to an hour later; the test moves those calls' timestamps back an hour and lets the running scheduler and
workers do it.

Needs PostgreSQL (DATABASE_URL=postgres://...) and Redis (REDIS_URL); skipped without them. Runs in about a minute.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db.models import F

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
WORKER_REPLICAS = 2
CONTACTS = 40
MAX_CALLS = 3
SETTLE_SECONDS = 60
RESTORE_AFTER_SECONDS = 5  # > simulator_delay_seconds + a task's run time: the live worker has acked what it held
ACCOUNT_SETTINGS = {
    "from_phone_number": "1234",
    "phone_call_queue_limit": 20,
    "max_calls_per_second": 8,
    "max_phone_calls_for_callout_participation": MAX_CALLS,
    "retry_backoff_seconds": 1,
    "simulator_delay_seconds": 1.5,
    "simulator_call_duration": 5,
    "simulator_outcomes": {"completed": 0.6, "busy": 0.2, "no-answer": 0.2},
}
TERMINAL = {"completed", "busy", "not_answered", "failed", "canceled", "errored", "expired"}
VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


# -- docker-compose.yml, translated -------------------------------------------------------------------------------
def interpolate(value, variables: dict[str, str]):
    """Compose's interpolation of one value (strings inside lists and mappings too): `$$` is a literal `$`."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, default = match.group(2), match.group(3) or ""
        if name not in variables or (operator == ":-" and not variables[name]):
            return default if operator else ""
        return variables[name]

    return VARIABLE.sub(replace, value)


def image_environment() -> dict[str, str]:
    """The Dockerfile's ENV lines (`ENV A=1 \\ B=2`)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env = {}
    for line in re.findall(r"^ENV (.+)$", text, re.M):
        for pair in shlex.split(line):
            name, _, value = pair.partition("=")
            env[name] = value
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Container:
    """One replica of a compose service, as a local process group."""

    name: str
    command: list[str]
    env: dict[str, str]
    healthcheck: list[str] | None
    log: Path
    process: subprocess.Popen | None = None
    published: dict[int, int] = field(default_factory=dict)  # container port -> local port

    def start(self) -> Container:
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,  # the image's WORKDIR holds the repository
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group per container: killing it kills its pool processes too
        )
        return self

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass

    def healthy(self) -> bool:
        if not self.healthcheck:
            return True
        kind, *test = self.healthcheck
        argv = ["sh", "-c", test[0]] if kind == "CMD-SHELL" else test
        probe = subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, timeout=60, check=False)
        return probe.returncode == 0


class Stack:
    """docker-compose.yml's SCFM services, translated to local processes (see the module docstring)."""

    def __init__(self, compose: dict, dotenv: dict[str, str], data_dir: Path, logs: Path):
        self.compose, self.dotenv, self.data_dir, self.logs = compose, dotenv, data_dir, logs
        self.infrastructure = {name for name, service in compose["services"].items() if "build" not in service}
        self.containers: list[Container] = []

    def translate(self, text: str, mounts: dict[str, Path], ports: dict[int, int], hostname: str) -> str:
        for target, source in mounts.items():
            text = re.sub(rf"(?<![\w/]){re.escape(target)}(?=/|$|\s|\"|')", str(source), text)
        for container_port, local_port in ports.items():
            text = text.replace(f"0.0.0.0:{container_port}", f"127.0.0.1:{local_port}")
            text = text.replace(f"127.0.0.1:{container_port}", f"127.0.0.1:{local_port}")
        return text.replace("%h", hostname)

    def translate_url(self, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme and parts.hostname in self.infrastructure:
            netloc = parts.netloc.rsplit("@", 1)
            host_port = netloc[-1].replace(parts.hostname, "127.0.0.1", 1)
            return urlunsplit(parts._replace(netloc="@".join([*netloc[:-1], host_port])))
        return value

    def container(self, name: str, replica: int = 1) -> Container:
        service = interpolate(self.compose["services"][name], {**os.environ, **self.dotenv})
        hostname = f"{name}-{replica}"
        mounts = {"/tmp": self.data_dir / f"{hostname}-tmp"}  # each container's own /tmp (PROMETHEUS_MULTIPROC_DIR)
        mounts["/tmp"].mkdir(parents=True, exist_ok=True)
        for volume in service.get("volumes", []):
            source, _, target = volume.partition(":")
            mounts[target] = self.data_dir / source
            mounts[target].mkdir(parents=True, exist_ok=True)
        ports = {}
        for mapping in service.get("ports", []):
            container_port = int(str(mapping).rsplit(":", 1)[-1])
            ports[container_port] = free_port()
        env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "HOSTNAME": hostname,
            **image_environment(),
        }
        for env_file in service.get("env_file", []):
            env.update(self.dotenv if Path(env_file["path"]).name == ".env" else {})
        env.update({key: str(value) for key, value in (service.get("environment") or {}).items()})
        env = {key: self.translate(self.translate_url(value), mounts, ports, hostname) for key, value in env.items()}
        command = service["command"]
        command = shlex.split(command) if isinstance(command, str) else list(command)
        command = [self.translate(part, mounts, ports, hostname) for part in command]
        healthcheck = service.get("healthcheck", {}).get("test")
        if healthcheck:
            healthcheck = [self.translate(part, mounts, ports, hostname) for part in healthcheck]
        container = Container(hostname, command, env, healthcheck, self.logs / f"{hostname}.log", published=ports)
        self.containers.append(container)
        return container

    def stop(self) -> None:
        for container in reversed(self.containers):
            container.stop()

    def dump_logs(self) -> str:
        return "\n".join(f"--- {c.name}\n{c.log.read_text()[-3000:]}" for c in self.containers if c.log.exists())


def wait_for(predicate, timeout: float, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(message() if callable(message) else message)


def restore_reserved_before(*, broker_url: str, moment: float) -> int:
    """Put back on their queues the messages delivered before `moment` (a Unix time) and still unacknowledged: what
    kombu's Redis transport does for every message older than the visibility timeout. Returns how many."""
    import redis
    from kombu import Connection

    client = redis.Redis.from_url(broker_url)
    count = client.zcount("unacked_index", "-inf", moment)
    with Connection(broker_url, transport_options={"visibility_timeout": time.time() - moment}) as connection:
        connection.default_channel.qos.restore_visible(num=None, interval=1)
    return count


# -- HTTP ---------------------------------------------------------------------------------------------------------
class Api:
    def __init__(self, base_url: str, token: str):
        self.base_url, self.token = base_url, token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        request = urllib.request.Request(
            self.base_url + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, path: str, body: dict | None = None) -> dict:
        status, payload = self.call("POST", path, body or {})
        assert status == 201, (path, status, payload)
        return payload

    def get(self, path: str) -> dict:
        status, payload = self.call("GET", path)
        assert status == 200, (path, status, payload)
        return payload


def test_the_images_default_command_is_the_web_service_command():
    """`docker run scfm` (or a Kubernetes container without `command`) runs the web server as compose does."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    match = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)
    assert match
    assert json.loads(match.group(1)) == [part.replace("$$", "$") for part in compose["services"]["web"]["command"]]


# -- the test -----------------------------------------------------------------------------------------------------
@pytest.fixture
def broker(redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    yield redis_url
    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def stack(require_postgresql, transactional_db, database_url, broker, tmp_path):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    dotenv = {  # what an operator's .env would say on this machine
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "SECRET_KEY": "production-layout-test",
        "PLATFORM_PROVIDER": "simulator",
        "SCFM_SCHEDULER_INTERVAL": "2",
        "SCFM_WORKER_CONCURRENCY": "2",
        "WEB_CONCURRENCY": "2",
        "SCFM_LOG_LEVEL": "INFO",
    }
    (tmp_path / "logs").mkdir()
    stack = Stack(compose, dotenv, tmp_path / "volumes", tmp_path / "logs")
    yield stack
    stack.stop()


def live_calls(callout_id: int) -> list[dict]:
    from phone_calls.models import PhoneCall

    fields = ("id", "status", "updated_at", "dispatched_at", "remote_call_id", "remote_status", "queue_after")
    return list(PhoneCall.objects.filter(callout_id=callout_id).exclude(status__in=TERMINAL).values(*fields))


def left_by_the_dead(call: dict, killed_at: float) -> bool:
    """Live and not moved since the kill: what the dead worker held and the broker lost. Either its dial task went
    (`queued`, no dispatch stamp: the sweeper sends it again after 5 minutes); or the worker died while dialling it
    (`queued` and stamped, nothing recorded: it may or may not have been dialled, so it is never dialled again and
    the sweeper expires it after an hour); or it died between the provider's answer and sending the outcome's task
    (`remotely_queued`: the stale-status poll asks the provider after 10 minutes, and a call the provider still
    calls queued expires after an hour). Every scheduler tick runs these (phone_calls.polling)."""
    return call["status"] in ("queued", "remotely_queued", "in_progress") and call["updated_at"].timestamp() < killed_at


def an_hour_passes(phone_call_ids: set[int]) -> None:
    """Move the clock on for these calls only: their timestamps go back an hour, as if the hour had passed."""
    from phone_calls.models import PhoneCall

    hour = timedelta(hours=1, minutes=1)
    PhoneCall.objects.filter(pk__in=phone_call_ids).update(
        updated_at=F("updated_at") - hour,
        dispatched_at=F("dispatched_at") - hour,
        remotely_queued_at=F("remotely_queued_at") - hour,
        remote_status_fetch_queued_at=F("remote_status_fetch_queued_at") - hour,
    )


def test_compose_services_run_a_callout_to_the_end_when_a_worker_is_killed_mid_callout(stack):
    services = stack.compose["services"]
    assert {"migrate", "web", "worker", "scheduler"} <= set(services)

    # migrate: runs to completion first (service_completed_successfully); its last line is the super-admin token
    migrate = stack.container("migrate").start()
    assert migrate.process.wait(timeout=120) == 0, stack.dump_logs()
    token = migrate.log.read_text().strip().splitlines()[-1]

    web = stack.container("web").start()
    workers = [stack.container("worker", replica).start() for replica in range(1, WORKER_REPLICAS + 1)]
    scheduler = stack.container("scheduler").start()
    for container in [web, *workers, scheduler]:
        wait_for(
            lambda c=container: c.process.poll() is None and c.healthy(),
            90,
            lambda c=container: f"{c.name} is not healthy\n{stack.dump_logs()}",
        )
    base_url = f"http://127.0.0.1:{web.published[8000]}"

    # the super admin makes an account on the simulator, and a token for it
    admin = Api(base_url, token)
    account = admin.post("/api/accounts", {"platform_provider_name": "simulator", "settings": ACCOUNT_SETTINGS})
    permissions = ["contacts_write", "contacts_read", "callouts_write", "callouts_read", "batch_operations_write"]
    permissions += ["batch_operations_read", "callout_participations_read", "phone_calls_read"]
    api = Api(
        base_url, admin.post("/api/access_tokens", {"account_id": account["id"], "permissions": permissions})["token"]
    )

    for index in range(CONTACTS):
        api.post("/api/contacts", {"msisdn": f"+8551200{index:04d}", "metadata": {"group": "layout"}})
    callout = api.post("/api/callouts", {"call_flow_logic": "CallFlowLogic::HelloWorld"})
    population = api.post(
        f"/api/callouts/{callout['id']}/batch_operations",
        {
            "type": "BatchOperation::CalloutPopulation",
            "parameters": {"contact_filter_params": {"metadata": {"group": "layout"}}},
        },
    )
    api.post(f"/api/batch_operations/{population['id']}/batch_operation_events", {"event": "queue"})
    wait_for(
        lambda: api.get(f"/api/batch_operations/{population['id']}")["status"] == "finished",
        30,
        lambda: f"population did not finish\n{stack.dump_logs()}",
    )
    api.post(f"/api/callouts/{callout['id']}/callout_events", {"event": "start"})

    # mid-callout: some calls have ended, many are still to come; one worker "container" is killed
    from phone_calls.models import PhoneCall

    wait_for(
        lambda: PhoneCall.objects.filter(callout_id=callout["id"], status__in=TERMINAL).count() >= CONTACTS // 3,
        60,
        lambda: f"no progress\n{stack.dump_logs()}",
    )
    live_when_killed = PhoneCall.objects.filter(callout_id=callout["id"]).exclude(status__in=TERMINAL).count()
    killed_at = time.time()
    workers[0].kill()
    assert live_when_killed > 0, "the callout ended before the worker was killed: raise CONTACTS"
    # what the dead worker had reserved stays unacknowledged in Redis until the visibility timeout (1 h) passes and
    # a live worker puts it back; the test moves the clock on instead of waiting the hour (module docstring)
    time.sleep(RESTORE_AFTER_SECONDS)
    stranded = restore_reserved_before(broker_url=stack.dotenv["CELERY_BROKER_URL"], moment=killed_at)

    # the callout goes on without the dead worker until nothing is live but the calls it left behind
    wait_for(
        lambda: all(left_by_the_dead(call, killed_at) for call in live_calls(callout["id"])),
        SETTLE_SECONDS,
        lambda: f"not settled: {live_calls(callout['id'])} ({stranded} tasks restored)\n{stack.dump_logs()}",
    )
    left = live_calls(callout["id"])
    in_doubt = {call["id"] for call in left if call["dispatched_at"]}
    # an hour later the scheduler's tick has sent the lost dial tasks again and expired the calls in doubt
    an_hour_passes({call["id"] for call in left})
    wait_for(
        lambda: not live_calls(callout["id"]),
        SETTLE_SECONDS,
        lambda: f"not settled after the sweep: {live_calls(callout['id'])}\n{stack.dump_logs()}",
    )

    # nothing lost: every participation answered, called MAX_CALLS times, or ended on a call left in doubt
    from callouts.models import CalloutParticipation
    from phone_calls.models import RemotePhoneCallEvent

    participations = list(CalloutParticipation.objects.filter(callout_id=callout["id"]))
    assert len(participations) == CONTACTS
    calls = list(PhoneCall.objects.filter(callout_id=callout["id"]).order_by("id"))
    assert {call.pk for call in calls if call.status == "expired"} == in_doubt
    by_participation: dict[int, list] = {}
    for call in calls:
        by_participation.setdefault(call.callout_participation_id, []).append(call)
    for participation in participations:
        attempts = by_participation[participation.pk]
        assert len(attempts) == participation.phone_calls_count <= MAX_CALLS
        assert participation.answered == any(call.status == "completed" for call in attempts)
        assert participation.answered or len(attempts) == MAX_CALLS or attempts[-1].pk in in_doubt
    # nobody dialled twice: one remote call id per call, never shared, and every status callback names its call's id
    remote_ids = [call.remote_call_id for call in calls if call.pk not in in_doubt]
    assert all(remote_ids), [call.pk for call in calls if not call.remote_call_id]
    assert len(set(remote_ids)) == len(remote_ids)
    events = RemotePhoneCallEvent.objects.filter(phone_call__callout_id=callout["id"])
    mismatched = [
        (event.phone_call_id, event.remote_call_id)
        for event in events.select_related("phone_call")
        if event.remote_call_id != event.phone_call.remote_call_id
    ]
    assert mismatched == []
    assert workers[1].process.poll() is None and web.process.poll() is None and scheduler.process.poll() is None
