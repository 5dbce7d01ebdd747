"""gunicorn's configuration (`gunicorn --config python:scfm.gunicorn_config`): the metrics hooks of the web.

With PROMETHEUS_MULTIPROC_DIR set (the Dockerfile sets it), every gunicorn worker process counts in its own files
there and `/metrics` sums them (scfm/metrics.py). The master removes the files of an earlier run before the first
worker starts (they would add up with this run's) and marks each worker that exits, so its live gauges go.
Everything else comes from the command line and the environment (WEB_CONCURRENCY, FORWARDED_ALLOW_IPS...).
"""


def on_starting(server) -> None:
    from scfm.metrics import multiprocess_dir_reset

    multiprocess_dir_reset()


def child_exit(server, worker) -> None:
    from scfm.metrics import process_exited

    process_exited(worker.pid)
