"""The README's curl quickstart, step by step, against `manage.py serve` (make run) on its embedded defaults:
SQLite and the file-system broker, a real worker and scheduler.

The family this guards: every write path that runs hand-written SQL (population, dial results, counters, the
callbacks' fast path) must also run on the laptop's SQLite, not only on PostgreSQL, which the rest of the suite
uses. A newcomer found population failing there (`WITH ... INSERT` is PostgreSQL only): populate, dial, record the
simulator's outcomes, retry and count, as the quickstart does.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.ops.test_serve import serve, started  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")


def bootstrap_token(serve) -> str:  # noqa: F811
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env["SCFM_DATA_DIR"] = str(serve.log.parent)
    out = subprocess.run(
        [sys.executable, "manage.py", "bootstrap"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def wait_for_value(read, predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = read()
        if predicate(value):
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what}: last seen {value}")


def test_the_readme_quickstart_runs_on_sqlite_and_the_file_broker(serve):  # noqa: F811
    started(serve)
    token = bootstrap_token(serve)
    api = f"http://127.0.0.1:{serve.port}/api"
    session = requests.Session()
    session.auth = (token, "")

    settings_update = {"settings": {"simulator_delay_seconds": 1, "retry_backoff_seconds": 5}}
    assert session.patch(f"{api}/account", json=settings_update).status_code == 204
    for msisdn, gender in (("+252 66 234 5671", "f"), ("252662345672", "f"), ("+252662345673", "m")):
        response = session.post(f"{api}/contacts", data={"msisdn": msisdn, "metadata[gender]": gender})
        assert response.status_code == 201, response.text

    callout = session.post(f"{api}/callouts", data={"call_flow_logic": "CallFlowLogic::HelloWorld"}).json()
    population = session.post(
        f"{api}/callouts/{callout['id']}/batch_operations",
        data={"type": "BatchOperation::CalloutPopulation", "parameters[contact_filter_params][metadata][gender]": "f"},
    ).json()
    queued = session.post(f"{api}/batch_operations/{population['id']}/batch_operation_events", data={"event": "queue"})
    assert queued.status_code == 201, queued.text
    finished = wait_for_value(
        lambda: session.get(f"{api}/batch_operations/{population['id']}").json(),
        lambda body: body["status"] == "finished",
        60,
        f"the population did not finish (worker log: {serve.log})",
    )
    assert finished["processed_count"] == 2

    started_callout = session.post(f"{api}/callouts/{callout['id']}/callout_events", data={"event": "start"})
    assert started_callout.json()["status"] == "running"
    statistics = wait_for_value(
        lambda: session.get(f"{api}/callouts/{callout['id']}/callout_statistics").json(),
        lambda body: body["callout_participations_still_to_call"] == 0,
        120,
        "the callout did not finish dialling",
    )
    assert statistics["callout_participations"] == 2
    assert statistics["phone_calls"] >= 2
    calls = session.get(f"{api}/callouts/{callout['id']}/phone_calls").json()
    assert len(calls) == statistics["phone_calls"]
    assert all(call["remote_call_id"] for call in calls if call["status"] != "created")
    assert session.get(f"{api}/callouts/{callout['id']}/remote_phone_call_events").json()
    stopped = session.post(f"{api}/callouts/{callout['id']}/callout_events", data={"event": "stop"})
    assert stopped.json()["status"] == "stopped"
