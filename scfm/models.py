from django.db import models


class TimestampedModel(models.Model):
    """created_at / updated_at on every table."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Heartbeat(models.Model):
    """The last time a named periodic process proved it was alive: `scheduler_tick` when a worker finished the
    scheduler tick, `beat` when the beat process sent it. Read by the health checks (scfm.health); one row per
    name, overwritten in place."""

    name = models.CharField(max_length=50, primary_key=True)
    beat_at = models.DateTimeField()
