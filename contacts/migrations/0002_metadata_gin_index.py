from django.db import migrations

from scfm.db import gin_index


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    # metadata containment filters (q[metadata][...]) on PostgreSQL
    operations = [gin_index("contacts_contact", "metadata", "contacts_metadata_gin")]
