"""Prometheus metrics: the registry `/metrics` renders, multiprocess aggregation, and the kernel's scrape-time gauges.

Two kinds of metric (docs/operations.md, "Metrics", lists every name):

- **Counters and histograms** counted where things happen (prometheus-client; phone_calls/metrics.py defines SCFM's
  own, django-prometheus the HTTP and database ones). Under gunicorn or a Celery prefork pool each process counts
  in files of its own in `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's multiprocess mode; the variable must be set
  before the process starts, as the Dockerfile does) and a scrape sums them over every process. The process that
  owns the directory removes the files of processes no longer running when it starts (`multiprocess_dir_reset`:
  gunicorn's master in scfm/gunicorn_config.py, the Celery worker's main process in scfm/celery.py); each process
  kind has a directory of its own; `SCFM_METRICS_EXTRA_DIRS` adds other processes' directories on the same host
  (the worker of `manage.py serve`).
- **Gauges read at scrape time** (`scrape_collector_register`): the depth of each Celery queue (from the broker),
  the scheduler tick's heartbeat age (here), calls in flight and participations still to call (from the callout
  counters: phone_calls/metrics.py). Only the web's `/metrics` reports them; a worker's own endpoint
  (`SCFM_WORKER_METRICS_PORT`, `worker_metrics_serve`) reports its counters only.

No label takes unbounded values (no ids, numbers or free text): every label's values are a fixed set.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

# the classic text format (generate_latest's output), which every Prometheus version reads
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

disable_created_metrics()  # no `_created` series beside each counter (single-process mode): half the lines, no use

_scrape_collectors: list[Callable[[], Iterable[Metric]]] = []


def scrape_collector_register(collect: Callable[[], Iterable[Metric]]) -> None:
    """Add a function yielding metric families computed at scrape time (an app's AppConfig.ready() calls it, so the
    kernel imports no app). Registering the same function twice adds it once."""
    if collect not in _scrape_collectors:
        _scrape_collectors.append(collect)


def multiprocess_dir() -> str | None:
    """This process's multiprocess directory (PROMETHEUS_MULTIPROC_DIR), or None: single-process mode."""
    return os.environ.get(MULTIPROC_ENV) or None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def multiprocess_dir_reset(path: str | None = None) -> None:
    """Remove the files of processes no longer running from the multiprocess directory (created if missing), as
    its owner starts (gunicorn's master, a Celery worker): an earlier run's counts must not add up with this one's.
    Files of live processes stay, so a process that loaded its metrics before this runs (the Celery worker's own
    main process) keeps them; a file already gone is no error."""
    path = path or multiprocess_dir()
    if not path:
        return
    os.makedirs(path, exist_ok=True)
    for name in glob.glob(os.path.join(path, "*.db")):
        pid = os.path.basename(name)[: -len(".db")].rsplit("_", 1)[-1]
        if pid.isdigit() and _alive(int(pid)):
            continue
        try:
            os.remove(name)
        except FileNotFoundError:
            pass


def process_exited(pid: int) -> None:
    """A process of this directory has exited (gunicorn's child_exit, a Celery pool process): its live gauges go;
    its counts stay in the sums."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


class _DirectoriesCollector:
    """prometheus-client's MultiProcessCollector over several directories: every `*.db` file of each, merged."""

    def __init__(self, paths: list[str]):
        self.paths = paths

    def collect(self) -> Iterator[Metric]:
        files = [name for path in self.paths for name in sorted(glob.glob(os.path.join(path, "*.db")))]
        return iter(MultiProcessCollector.merge(files, accumulate=True))


class _ScrapeTimeCollector:
    def collect(self) -> Iterator[Metric]:
        for collect in _scrape_collectors:
            try:
                yield from collect()
            except Exception:  # noqa: BLE001 - one failing source (broker down) must not blank the whole scrape
                logger.warning("metrics collector %s failed", getattr(collect, "__name__", collect), exc_info=True)


class _ProcessCollector:
    """The default registry's collectors (single-process mode: this process's counters, Python and process
    metrics)."""

    def collect(self) -> Iterator[Metric]:
        return iter(REGISTRY.collect())


def extra_dirs() -> list[str]:
    return [path.strip() for path in settings.SCFM_METRICS_EXTRA_DIRS.split(",") if path.strip()]


def counters_registry() -> CollectorRegistry:
    """The counted metrics: every process of PROMETHEUS_MULTIPROC_DIR (and SCFM_METRICS_EXTRA_DIRS) summed, or
    this process's own without a directory."""
    registry = CollectorRegistry(auto_describe=False)
    own = multiprocess_dir()
    if own:
        registry.register(_DirectoriesCollector([own, *extra_dirs()]))
    else:
        registry.register(_ProcessCollector())
    return registry


def render(*, scrape_time: bool = True) -> bytes:
    """The Prometheus text exposition (format 0.0.4) of the counted metrics and (`scrape_time`) the gauges read now."""
    registry = counters_registry()
    if scrape_time:
        registry.register(_ScrapeTimeCollector())
    return generate_latest(registry)


# -- the kernel's scrape-time gauges ------------------------------------------------------------------------------
def queue_depths() -> Iterator[Metric]:
    """`scfm_celery_queue_messages{queue}`: messages waiting in each queue of CELERY_TASK_QUEUES (reserved by a
    worker and not yet acknowledged ones excluded), asked of the broker now (a passive queue_declare each)."""
    from scfm.celery import app

    family = GaugeMetricFamily(
        "scfm_celery_queue_messages", "Messages waiting in each Celery queue (read from the broker)", labels=["queue"]
    )
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        channel = connection.default_channel
        for queue in app.conf.task_queues:
            try:
                declared = channel.queue_declare(queue=queue.name, passive=True)
                count = declared.message_count
            except Exception:  # noqa: BLE001 - a queue never declared yet is empty
                count = 0
            family.add_metric([queue.name], float(count or 0))
    yield family


def scheduler_heartbeat() -> Iterator[Metric]:
    """`scfm_scheduler_tick_age_seconds` (since the scheduler tick last completed; +Inf if it never did) and
    `scfm_scheduler_interval_seconds` (SCFM_SCHEDULER_INTERVAL): alert when age > 3 × interval."""
    from scfm.health import SCHEDULER_TICK_HEARTBEAT, heartbeat_age

    age = heartbeat_age(SCHEDULER_TICK_HEARTBEAT)
    yield GaugeMetricFamily(
        "scfm_scheduler_tick_age_seconds",
        "Seconds since the scheduler tick last completed (+Inf: never)",
        value=float("inf") if age is None else max(age.total_seconds(), 0.0),
    )
    yield GaugeMetricFamily(
        "scfm_scheduler_interval_seconds",
        "Seconds between scheduler ticks (SCFM_SCHEDULER_INTERVAL)",
        value=float(settings.SCFM_SCHEDULER_INTERVAL),
    )


scrape_collector_register(queue_depths)
scrape_collector_register(scheduler_heartbeat)


# -- a Celery worker's own endpoint -------------------------------------------------------------------------------
def worker_metrics_serve() -> None:
    """In a Celery worker's main process, before its pool starts: clear its multiprocess directory and, when
    SCFM_WORKER_METRICS_PORT is set, serve the pool's summed counters at http://SCFM_WORKER_METRICS_ADDR:PORT/metrics
    (no authentication: expose it to the scraping network only). A port already taken is logged, not fatal."""
    multiprocess_dir_reset()
    port = settings.SCFM_WORKER_METRICS_PORT
    if not port:
        return
    from prometheus_client import start_http_server

    try:
        start_http_server(port, addr=settings.SCFM_WORKER_METRICS_ADDR, registry=counters_registry())
    except OSError as error:
        logger.warning("worker metrics not served on port %s: %s", port, error)
    else:
        logger.info("worker metrics served on %s:%s/metrics", settings.SCFM_WORKER_METRICS_ADDR, port)
