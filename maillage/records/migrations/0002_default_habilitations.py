from django.db import migrations

from maillage.records.habilitations import default_rows


def forwards(apps, schema_editor):
    rule = apps.get_model("records", "HabilitationRule")
    for role, document_type, can_read, can_write in default_rows():
        rule.objects.get_or_create(
            role=role,
            document_type=document_type,
            defaults={"can_read": can_read, "can_write": can_write},
        )


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
