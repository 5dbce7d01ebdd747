"""SCFM_LOG_FORMAT=json: one JSON object per line; every API request logged once with its request id."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scfm.logging import JsonFormatter, RequestIdFilter

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
