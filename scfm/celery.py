"""The Celery application: tasks are discovered in every app's tasks.py; beat runs the dialling scheduler.

Logging is Django's (settings.LOGGING, JSON with SCFM_LOG_FORMAT=json) in the worker and beat too: connecting
`setup_logging` stops Celery from replacing the root handler, and the task signals tag each task's lines with the
ids it takes (scfm.logging). Beat records each scheduler tick it sends (scfm.health.heartbeat_record), which its
container probe reads.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scfm.settings")

app = Celery("scfm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

SCHEDULER_TICK_TASK = "phone_calls.tasks.scheduler_tick"


@app.on_after_configure.connect
def schedule_periodic_tasks(sender, **kwargs) -> None:
    """Every SCFM_SCHEDULER_INTERVAL seconds: dispatch due calls, poll stale statuses, sweep stuck calls; every 30 s:
    resume imports and batch operations whose worker died; every SCFM_COUNTS_SQUASH_INTERVAL seconds: squash callout
    counters; hourly: apply the series retention (callouts/tasks.py)."""
    from django.conf import settings

    interval = settings.SCFM_SCHEDULER_INTERVAL
    # a tick still waiting in the broker one interval later is dropped (the next one is already on its way), so
    # ticks never pile up behind a backlog
    sender.add_periodic_task(
        interval,
        sender.signature(SCHEDULER_TICK_TASK, options={"expires": interval}),
        name="phone-calls-scheduler-tick",
    )
    # imports and batch operations whose worker died are picked up again within minutes (scfm/stalled.py)
    for task in (
        "contacts.tasks.contact_imports_resume_stalled",
        "batch_operations.tasks.batch_operations_resume_stalled",
    ):
        sender.add_periodic_task(30.0, sender.signature(task, options={"expires": 30.0}), name=task)
    squash = settings.SCFM_COUNTS_SQUASH_INTERVAL
    sender.add_periodic_task(
        squash,
        sender.signature("callouts.tasks.callout_counts_squash", options={"expires": squash}),
        name="callouts.tasks.callout_counts_squash",
    )
    sender.add_periodic_task(
        3600.0,
        sender.signature("callouts.tasks.callout_series_retention", options={"expires": 3600.0}),
        name="callouts.tasks.callout_series_retention",
    )


@signals.setup_logging.connect
def logging_from_django_settings(loglevel=None, **kwargs) -> None:
    """Worker and beat log through settings.LOGGING like every other SCFM process (Celery's own set-up is
    skipped, so it never replaces the root handler with its plain-text one), at the level given by their
    `--loglevel` (compose passes SCFM_LOG_LEVEL)."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


@signals.task_prerun.connect
def _bind_task_ids(**kwargs) -> None:
    from scfm.logging import task_ids_bind

    task_ids_bind(**kwargs)


@signals.task_postrun.connect
def _unbind_task_ids(**kwargs) -> None:
    from scfm.logging import task_ids_unbind

    task_ids_unbind(**kwargs)


@signals.before_task_publish.connect(sender=SCHEDULER_TICK_TASK)
def _scheduler_tick_sent(**kwargs) -> None:
    """Beat's own heartbeat: the time it last sent the scheduler tick (read by `python -m scfm.health beat`)."""
    from scfm.health import BEAT_HEARTBEAT, heartbeat_record

    heartbeat_record(BEAT_HEARTBEAT)


@signals.celeryd_init.connect
def _worker_metrics(**kwargs) -> None:
    """The worker's main process, before its pool starts: clear its metrics directory of an earlier run's files and
    serve its processes' counters on SCFM_WORKER_METRICS_PORT when set (scfm.metrics.worker_metrics_serve)."""
    from scfm.metrics import worker_metrics_serve

    worker_metrics_serve()


@signals.worker_process_shutdown.connect
def _worker_process_metrics_dead(pid=None, **kwargs) -> None:
    from scfm.metrics import process_exited

    process_exited(pid or os.getpid())
