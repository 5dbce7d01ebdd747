import django.db.models.deletion
from django.db import migrations, models

from scfm.db import OnPostgreSQLByHand


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_dialling_pause"),
        ("batch_operations", "0002_initial"),
        ("callouts", "0005_rehearsal_copy_cursor"),
        ("contacts", "0004_account_id_index"),
    ]

    operations = [
        # Foreign keys lose their automatic index where a named index (Meta) already starts with the column.
        # On PostgreSQL by hand: Django's AlterField would drop and re-add each FK constraint (a validation scan).
        OnPostgreSQLByHand(
            state_operations=[
                migrations.AlterField(
                    model_name="callout",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="callouts",
                        to="accounts.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="calloutcount",
                    name="callout",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="callouts.callout",
                    ),
                ),
                migrations.AlterField(
                    model_name="calloutparticipation",
                    name="callout",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="callout_participations",
                        to="callouts.callout",
                    ),
                ),
                migrations.AlterField(
                    model_name="calloutparticipation",
                    name="callout_population",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="callout_participations",
                        to="batch_operations.batchoperation",
                    ),
                ),
                migrations.AlterField(
                    model_name="calloutparticipation",
                    name="contact",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="callout_participations",
                        to="contacts.contact",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS callouts_callout_account_id_bc83368d",
                    reverse_sql="CREATE INDEX callouts_callout_account_id_bc83368d ON callouts_callout (account_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS callouts_calloutcount_callout_id_0ff490d5",
                    reverse_sql="CREATE INDEX callouts_calloutcount_callout_id_0ff490d5 ON callouts_calloutcount (callout_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS callouts_calloutparticipation_callout_id_dc1d0ccb",
                    reverse_sql="CREATE INDEX callouts_calloutparticipation_callout_id_dc1d0ccb ON callouts_calloutparticipation (callout_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS callouts_calloutparticipation_callout_population_id_a671490d",
                    reverse_sql="CREATE INDEX callouts_calloutparticipation_callout_population_id_a671490d ON callouts_calloutparticipation (callout_population_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS callouts_calloutparticipation_contact_id_f814173f",
                    reverse_sql="CREATE INDEX callouts_calloutparticipation_contact_id_f814173f ON callouts_calloutparticipation (contact_id)",
                ),
            ],
        ),
    ]
