import django.db.models.deletion
from django.db import migrations, models

from scfm.db import OnPostgreSQLByHand


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_dialling_pause"),
        ("contacts", "0004_account_id_index"),
    ]

    operations = [
        # Foreign keys lose their automatic index where a named index (Meta) already starts with the column.
        # On PostgreSQL by hand: Django's AlterField would drop and re-add each FK constraint (a validation scan).
        OnPostgreSQLByHand(
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="contacts",
                        to="accounts.account",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS contacts_contact_account_id_9a5698ce",
                    reverse_sql="CREATE INDEX contacts_contact_account_id_9a5698ce ON contacts_contact (account_id)",
                ),
            ],
        ),
    ]
