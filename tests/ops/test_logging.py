"""SCFM_LOG_FORMAT=json: one JSON object per line from every process kind (web, Celery worker, Celery beat, management
commands); every API request logged once with its request id; task lines carry the task id and name and the ids
the task takes."""

import io
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scfm.logging import JsonFormatter, RequestIdFilter, log_context, phone_call_log_context

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_log():
    """Everything logged during the test, formatted as production formats it with SCFM_LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous_level)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_api_request_is_logged_once_with_its_request_id_when_caller_sends_one(client_for, json_log):
    response = client_for.get("/api/contacts", HTTP_X_REQUEST_ID="req-123")
    assert response["X-Request-Id"] == "req-123"
    requests = [line for line in lines(json_log) if line["logger"] == "scfm.request"]
    assert len(requests) == 1
    assert requests[0] | {"time": None, "duration_ms": None} == {
        "time": None,
        "level": "INFO",
        "logger": "scfm.request",
        "message": requests[0]["message"],
        "request_id": "req-123",
        "method": "GET",
        "path": "/api/contacts",
        "status": 200,
        "duration_ms": None,
    }
    assert requests[0]["message"].startswith("GET /api/contacts 200 ")
    assert isinstance(requests[0]["duration_ms"], float)


def test_every_log_line_of_a_request_carries_the_generated_request_id_when_caller_sends_none(anonymous, json_log, db):
    response = anonymous.get("/api/contacts/999")
    request_id = response["X-Request-Id"]
    logged = lines(json_log)
    assert logged, "the request logged nothing"
    assert {line["request_id"] for line in logged} == {request_id}
    assert [line["status"] for line in logged if line["logger"] == "scfm.request"] == [401]


def test_health_checks_are_not_logged_at_info(anonymous, json_log, db):
    anonymous.get("/health")
    assert [line for line in lines(json_log) if line["logger"] == "scfm.request"] == []


def test_log_format_json_makes_every_line_a_json_object_when_set_in_the_environment(tmp_path):
    script = (
        "import django, logging; django.setup(); "
        "from scfm.logging import request_id_var; request_id_var.set('abc'); "
        "logging.getLogger('scfm.test').info('hello %s', 'world'); "
        "logging.getLogger('scfm.test').warning('line\\nbreak')"
    )
    env = {**os.environ, "SCFM_LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "scfm.settings"}
    env["SCFM_DATA_DIR"] = str(tmp_path)
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    logged = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["message"], line["request_id"], line["level"]) for line in logged] == [
        ("hello world", "abc", "INFO"),
        ("line\nbreak", "abc", "WARNING"),
    ]


def test_every_dialling_log_line_carries_the_phone_call_id(
    fake_twilio, json_log, db, django_capture_on_commit_callbacks
):
    from phone_calls import dispatch
    from tests.factories import AccountFactory, CalloutFactory, PhoneCallFactory

    account = AccountFactory(
        platform_provider_name="somleng",
        somleng_account_sid=fake_twilio.account_sid,
        somleng_auth_token=fake_twilio.auth_token,
        somleng_api_base_url=fake_twilio.base_url,
        settings={"from_phone_number": "1234", "max_calls_per_second": 0},
    )
    call = PhoneCallFactory(callout_participation__callout=CalloutFactory(account=account, status="running"))
    fake_twilio.fail_to(call.msisdn, "server_error")
    with django_capture_on_commit_callbacks(execute=True):
        dispatch.account_calls_dispatch(account_id=account.pk, hold_seconds=0)
    logging.getLogger("scfm.test").info("after the dial")

    logged = lines(json_log)
    dialling = [line for line in logged if line["logger"].startswith(("twilio", "phone_calls"))]
    assert dialling, "dialling logged nothing"
    assert {line.get("phone_call_id") for line in dialling} == {call.pk}
    assert "phone_call_id" not in logged[-1]


def test_log_context_tags_lines_with_callout_and_account_ids_and_restores_them_when_the_block_ends(json_log):
    logger = logging.getLogger("scfm.test")
    with log_context(account_id=3, callout_id=5):
        with phone_call_log_context(8):
            logger.info("inner")
        logger.info("outer")
    logger.info("after")
    inner, outer, after = lines(json_log)
    assert (inner["account_id"], inner["callout_id"], inner["phone_call_id"]) == (3, 5, 8)
    assert (outer["account_id"], outer["callout_id"], "phone_call_id" in outer) == (3, 5, False)
    assert {"account_id", "callout_id", "phone_call_id"} & set(after) == set()


def test_eager_task_lines_carry_the_task_id_name_and_the_ids_it_takes(json_log):
    from tests.ops.celery_tasks import log_lines

    result = log_lines.delay(42, callout_id=3)
    logged = [line for line in lines(json_log) if line["logger"] == "scfm.test"]
    assert [line["message"] for line in logged] == ["dialling 42", "inside the account block"]
    assert {(line["task_id"], line["task_name"]) for line in logged} == {(result.id, "tests.ops.log_lines")}
    assert [(line["phone_call_id"], line["callout_id"], line.get("account_id")) for line in logged] == [
        (42, 3, None),
        (42, 3, 7),
    ]


# -- one real process of each kind ---------------------------------------------------------------------------------
def database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(tmp_path, **extra) -> dict[str, str]:
    env = {**os.environ, "SCFM_LOG_FORMAT": "json", "SCFM_LOG_LEVEL": "INFO", "DJANGO_SETTINGS_MODULE": "scfm.settings"}
    env.update({"SCFM_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url(), "NO_PROXY": "127.0.0.1,localhost"})
    env.update(extra)
    return env


def json_lines(text: str) -> list[dict]:
    """Every line of a process's log stream, each parsed as JSON (a plain-text line fails the test)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def run_until(command: list[str], env: dict, done, timeout: float = 60) -> str:
    """Start `command`, wait until done(stderr so far) or `timeout`, stop it (SIGTERM, warm shutdown); its stderr."""
    log = env["SCFM_DATA_DIR"] + "/process.log"
    with open(log, "w") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            with open(log) as stream:
                if done(stream.read()):
                    break
            time.sleep(0.2)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    with open(log) as stream:
        return stream.read()


CELERY = [sys.executable, "-m", "celery", "-A", "scfm", "--quiet"]


def test_worker_lines_are_json_with_task_id_name_and_phone_call_id_when_a_real_worker_runs_a_task(
    require_postgresql, redis_url, tmp_path
):
    import redis
    from kombu import Connection

    from scfm.celery import app

    redis.Redis.from_url(redis_url).flushdb()
    env = process_env(tmp_path, CELERY_BROKER_URL=redis_url)
    app.conf.task_always_eager = False  # this test sends to a real worker (the autouse fixture restores it)
    with Connection(redis_url) as conn:  # not the app's connection: in laptop mode it names the file transport
        sent = app.send_task("tests.ops.log_lines", args=[42], kwargs={"callout_id": 3}, connection=conn)
    command = [*CELERY, "worker", "--include", "tests.ops.celery_tasks", "--pool", "prefork", "--concurrency", "1"]
    command += ["--hostname", "logging@%h", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    stderr = run_until(command, env, lambda text: "succeeded in" in text)

    logged = json_lines(stderr)
    assert any(line["logger"] == "celery.apps.worker" and line["message"].endswith("ready.") for line in logged)
    task_lines = [line for line in logged if line["logger"] == "scfm.test"]
    assert [line["message"] for line in task_lines] == ["dialling 42", "inside the account block"]
    for line in task_lines:
        assert (line["task_id"], line["task_name"]) == (sent.id, "tests.ops.log_lines")
        assert (line["phone_call_id"], line["callout_id"], line["request_id"]) == (42, 3, "-")
    assert task_lines[1]["account_id"] == 7
    assert any(line["logger"] == "celery.app.trace" and line["task_id"] == sent.id for line in logged)


def test_beat_lines_are_json_when_a_real_beat_sends_the_scheduler_tick(require_postgresql, redis_url, tmp_path):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = process_env(tmp_path, CELERY_BROKER_URL=redis_url, SCFM_SCHEDULER_INTERVAL="1")
    command = [*CELERY, "beat", "--schedule", str(tmp_path / "celerybeat-schedule"), "--loglevel", "INFO"]
    stderr = run_until(command, env, lambda text: "Sending due task" in text)

    logged = json_lines(stderr)
    assert [line["message"] for line in logged if line["logger"] == "celery.beat"][:2] == [
        "beat: Starting...",
        "Scheduler: Sending due task phone-calls-scheduler-tick (phone_calls.tasks.scheduler_tick)",
    ]
    assert {line["request_id"] for line in logged} == {"-"}


def test_management_command_lines_are_json_with_the_phone_call_id_when_a_command_dials(
    require_postgresql, transactional_db, fake_twilio, tmp_path
):
    from tests.factories import AccountFactory, CalloutFactory, PhoneCallFactory

    account = AccountFactory(
        platform_provider_name="somleng",
        somleng_account_sid=fake_twilio.account_sid,
        somleng_auth_token=fake_twilio.auth_token,
        somleng_api_base_url=fake_twilio.base_url,
        settings={"from_phone_number": "1234", "max_calls_per_second": 0},
    )
    call = PhoneCallFactory(callout_participation__callout=CalloutFactory(account=account, status="running"))
    fake_twilio.fail_to(call.msisdn, "server_error")
    done = subprocess.run(
        [sys.executable, "manage.py", "enqueue_calls", "--account-id", str(account.pk)],
        cwd=ROOT,
        env=process_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    logged = json_lines(done.stderr)
    dialling = [line for line in logged if line["logger"].startswith(("twilio", "phone_calls"))]
    assert dialling, f"the command logged no dialling line: {done.stderr}"
    assert {line["phone_call_id"] for line in dialling} == {call.pk}
    assert done.stdout.startswith("enqueued 1 of 1 allowed calls")
