from django.db import migrations

from maillage.territory.loader import load_communes


def forwards(apps, schema_editor):
    load_communes(apps.get_model("territory", "Commune"))


class Migration(migrations.Migration):
    dependencies = [("territory", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
