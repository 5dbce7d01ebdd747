"""The Celery application: tasks are discovered in every app's tasks.py; beat runs the dialling scheduler."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scfm.settings")

app = Celery("scfm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def schedule_periodic_tasks(sender, **kwargs) -> None:
    """Every SCFM_SCHEDULER_INTERVAL seconds: dispatch due calls, poll stale statuses, sweep stuck calls."""
    from django.conf import settings

    sender.add_periodic_task(
        settings.SCFM_SCHEDULER_INTERVAL,
        sender.signature("phone_calls.tasks.scheduler_tick"),
        name="phone-calls-scheduler-tick",
    )
