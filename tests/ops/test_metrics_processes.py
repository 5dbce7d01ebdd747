"""Metrics across real processes: gunicorn with two workers sums its workers' counters in every scrape (whichever
worker answers), and a Celery prefork worker serves its pool's counters on SCFM_WORKER_METRICS_PORT. Both run the
way docker-compose.yml runs them (its web command; the Dockerfile's PROMETHEUS_MULTIPROC_DIR), with a directory of
their own. Needs PostgreSQL and Redis."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.ops.test_metrics import value
from tests.ops.test_production_layout import ROOT, free_port, interpolate, wait_for

yaml = pytest.importorskip("yaml")

REQUESTS = 40
HEALTH_LIVE = {"view": "health-live", "transport": "http", "method": "GET"}
BY_VIEW = "django_http_requests_total_by_view_transport_method_total"


def get(url: str, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def web_command(port: int) -> list[str]:
    """docker-compose.yml's web command (`sh -c "exec gunicorn ..."`), on a local port."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = interpolate(compose["services"]["web"]["command"], {})
    assert command[:2] == ["sh", "-c"]
    line = command[2].replace("exec gunicorn", f"exec {sys.executable} -m gunicorn")  # sh expands the rest
    return ["sh", "-c", line.replace("0.0.0.0:8000", f"127.0.0.1:{port}")]


@pytest.fixture
def environment(require_postgresql, transactional_db, database_url, redis_url, tmp_path):
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_url,
        "SCFM_DATA_DIR": str(tmp_path / "data"),
        "SCFM_METRICS_PUBLIC": "true",
        "WEB_CONCURRENCY": "2",
    }


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(timeout=10)


def counted_by_pid(path: Path) -> dict[int, float]:
    """health-live requests each gunicorn worker counted, from its own files."""
    counts = {}
    for name in glob.glob(str(path / "counter_*.db")):
        pid = int(Path(name).stem.rsplit("_", 1)[1])
        for metric in MultiProcessCollector.merge([name]):
            for sample in metric.samples:
                if sample.name == BY_VIEW and sample.labels == HEALTH_LIVE:
                    counts[pid] = counts.get(pid, 0) + sample.value
    return counts


def test_gunicorn_workers_counts_are_summed_in_every_scrape(environment, processes, tmp_path):
    metrics_dir = tmp_path / "web-metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left by an earlier run")  # emptied at start
    port = free_port()
    log = (tmp_path / "web.log").open("w")
    env = {**environment, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    command = web_command(port)
    processes.append(
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: get(base + "/health/live")[0] == 200, 60, lambda: (tmp_path / "web.log").read_text())
    before = value(get(base + "/metrics")[1], BY_VIEW, **HEALTH_LIVE)

    def hit(_):
        time.sleep(0.05)  # keep a worker busy so that the other accepts too
        return get(base + "/health/live")[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(hit, range(REQUESTS))) == {200}

    assert not (metrics_dir / "counter_999999.db").exists()
    by_pid = counted_by_pid(metrics_dir)
    assert len([pid for pid, count in by_pid.items() if count]) == 2, by_pid  # both workers served some
    for _ in range(6):  # each scrape is answered by either worker, and says the same
        status, text = get(base + "/metrics")
        assert status == 200
        assert value(text, BY_VIEW, **HEALTH_LIVE) == before + REQUESTS
        assert value(text, "scfm_calls_in_flight_limit") == 0  # the scrape-time gauges are there as well


def test_a_celery_worker_serves_its_pools_counters_on_its_own_port(environment, processes, tmp_path):
    port = free_port()
    env = {
        **environment,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "worker-metrics"),
        "SCFM_WORKER_METRICS_PORT": str(port),
        "SCFM_WORKER_METRICS_ADDR": "127.0.0.1",
    }
    command = [sys.executable, "-m", "celery", "-A", "scfm", "--quiet", "worker", "--concurrency", "2"]
    command += ["--hostname", f"metrics{port}@test", "--without-gossip", "--without-mingle"]
    log = (tmp_path / "worker.log").open("w")
    processes.append(
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    )
    url = f"http://127.0.0.1:{port}/metrics"
    text = wait_for(lambda: get(url)[1], 60, lambda: (tmp_path / "worker.log").read_text())
    assert "scfm_calls_dialled_total" in text
    assert "scfm_callouts" not in text  # the scrape-time gauges come from the web's /metrics only
