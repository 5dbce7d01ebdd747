import django.db.models.deletion
from django.db import migrations, models

from scfm.db import OnPostgreSQLByHand


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_dialling_pause"),
        ("batch_operations", "0002_initial"),
        ("callouts", "0006_fk_indexes_served_by_named_indexes"),
        ("contacts", "0005_fk_index_served_by_account_id_idx"),
        ("phone_calls", "0007_dispatchstate_next_slot_at"),
    ]

    operations = [
        # Foreign keys lose their automatic index where a named index (Meta) already starts with the column.
        # On PostgreSQL by hand: Django's AlterField would drop and re-add each FK constraint (a validation scan).
        OnPostgreSQLByHand(
            state_operations=[
                migrations.AlterField(
                    model_name="phonecall",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="phone_calls",
                        to="accounts.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="phonecall",
                    name="callout",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="phone_calls",
                        to="callouts.callout",
                    ),
                ),
                migrations.AlterField(
                    model_name="phonecall",
                    name="callout_participation",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="phone_calls",
                        to="callouts.calloutparticipation",
                    ),
                ),
                migrations.AlterField(
                    model_name="phonecall",
                    name="contact",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="phone_calls",
                        to="contacts.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="phonecall",
                    name="create_batch_operation",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="batch_operations.batchoperation",
                    ),
                ),
                migrations.AlterField(
                    model_name="phonecall",
                    name="queue_batch_operation",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="batch_operations.batchoperation",
                    ),
                ),
                migrations.AlterField(
                    model_name="phonecall",
                    name="queue_remote_fetch_batch_operation",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="batch_operations.batchoperation",
                    ),
                ),
                migrations.AlterField(
                    model_name="phonecall",
                    name="remote_call_id",
                    field=models.CharField(blank=True, max_length=255, null=True),
                ),
                migrations.AlterField(
                    model_name="remotephonecallevent",
                    name="phone_call",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="remote_phone_call_events",
                        to="phone_calls.phonecall",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS phone_calls_phonecall_account_id_69e9fbe4",
                    reverse_sql="CREATE INDEX phone_calls_phonecall_account_id_69e9fbe4 ON phone_calls_phonecall (account_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS phone_calls_phonecall_callout_id_8d793c2d",
                    reverse_sql="CREATE INDEX phone_calls_phonecall_callout_id_8d793c2d ON phone_calls_phonecall (callout_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS phone_calls_phonecall_callout_participation_id_f1f8acd3",
                    reverse_sql="CREATE INDEX phone_calls_phonecall_callout_participation_id_f1f8acd3 ON phone_calls_phonecall (callout_participation_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS phone_calls_phonecall_contact_id_342dd6ae",
                    reverse_sql="CREATE INDEX phone_calls_phonecall_contact_id_342dd6ae ON phone_calls_phonecall (contact_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS phone_calls_phonecall_create_batch_operation_id_c613578c",
                    reverse_sql="CREATE INDEX phone_calls_phonecall_create_batch_operation_id_c613578c ON phone_calls_phonecall (create_batch_operation_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS phone_calls_phonecall_queue_batch_operation_id_4ebb0134",
                    reverse_sql="CREATE INDEX phone_calls_phonecall_queue_batch_operation_id_4ebb0134 ON phone_calls_phonecall (queue_batch_operation_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS phone_calls_phonecall_queue_remote_fetch_batch_o_9b3c2dd0",
                    reverse_sql="CREATE INDEX phone_calls_phonecall_queue_remote_fetch_batch_o_9b3c2dd0 ON phone_calls_phonecall (queue_remote_fetch_batch_operation_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS phone_calls_remotephonecallevent_phone_call_id_bbed07a8",
                    reverse_sql="CREATE INDEX phone_calls_remotephonecallevent_phone_call_id_bbed07a8 ON phone_calls_remotephonecallevent (phone_call_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS phone_calls_phonecall_remote_call_id_18bca2b1_like",
                    reverse_sql="CREATE INDEX phone_calls_phonecall_remote_call_id_18bca2b1_like ON phone_calls_phonecall (remote_call_id varchar_pattern_ops)",
                ),
            ],
        ),
        migrations.RemoveIndex(
            model_name="phonecall",
            name="phone_calls_stale_poll_idx",
        ),
        migrations.AddIndex(
            model_name="phonecall",
            index=models.Index(
                condition=models.Q(("status__in", ["remotely_queued", "in_progress"])),
                fields=["remotely_queued_at"],
                name="phone_calls_stale_poll_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="phonecall",
            index=models.Index(
                condition=models.Q(("create_batch_operation__isnull", False)),
                fields=["create_batch_operation"],
                name="phone_calls_create_batch_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="phonecall",
            index=models.Index(
                condition=models.Q(("queue_batch_operation__isnull", False)),
                fields=["queue_batch_operation"],
                name="phone_calls_queue_batch_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="phonecall",
            index=models.Index(
                condition=models.Q(("queue_remote_fetch_batch_operation__isnull", False)),
                fields=["queue_remote_fetch_batch_operation"],
                name="phone_calls_fetch_batch_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="phonecall",
            constraint=models.UniqueConstraint(
                condition=models.Q(("remote_call_id__isnull", False)),
                fields=("remote_call_id",),
                name="phone_calls_unique_remote_call_id",
            ),
        ),
        # the old full unique constraint goes once the partial one (above) holds the same rule
        OnPostgreSQLByHand(
            state_operations=[],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE phone_calls_phonecall DROP CONSTRAINT IF EXISTS phone_calls_phonecall_remote_call_id_key",
                    reverse_sql="ALTER TABLE phone_calls_phonecall ADD CONSTRAINT phone_calls_phonecall_remote_call_id_key "
                    "UNIQUE (remote_call_id)",
                ),
            ],
        ),
    ]
