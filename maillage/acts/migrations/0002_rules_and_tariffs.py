"""The teleconsultation tariffs, rules, direct-access specialties and ZIP communes, as data."""

from django.db import migrations

from maillage.acts.defaults import ensure


def seed(apps, schema_editor):
    ensure(
        apps.get_model("acts", "Tariff"),
        apps.get_model("acts", "Rule"),
        apps.get_model("acts", "DirectAccessSpecialty"),
        apps.get_model("acts", "UnderservedCommune"),
    )


class Migration(migrations.Migration):
    dependencies = [("acts", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
