"""At most one call per participation in flight (queued, remotely_queued, in_progress); `created` calls no longer
count, so calls made by hand may wait beside a live one (getting-started.md, "Managing Phone Calls")."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("phone_calls", "0002_dispatch_state_leases"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="phonecall",
            name="phone_calls_one_active_per_participation",
        ),
        migrations.AddConstraint(
            model_name="phonecall",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["queued", "remotely_queued", "in_progress"])),
                fields=("callout_participation",),
                name="phone_calls_one_in_flight_per_participation",
            ),
        ),
    ]
