"""The priorities with their deadlines and the tariffs of the acts, as data (``defaults``)."""

from django.db import migrations

from maillage.expertise.defaults import ensure


def seed(apps, schema_editor):
    ensure(apps.get_model("expertise", "Priority"), apps.get_model("expertise", "Tariff"))


class Migration(migrations.Migration):
    dependencies = [("expertise", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
