"""The Celery application: tasks are discovered in every app's tasks.py; beat runs the dialling scheduler."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scfm.settings")

app = Celery("scfm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
        sender.signature("phone_calls.tasks.scheduler_tick", options={"expires": interval}),
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
