"""The habilitation rows of the two new roles (midwife; physiotherapist, speech therapist or
orthoptist), from the defaults; a row an administrator already set is left as it is."""

from django.db import migrations

from maillage.records.habilitations import DEFAULT_MATRIX

NEW_ROLES = ("midwife", "rehabilitation")


def add_rows(apps, schema_editor):
    rule = apps.get_model("records", "HabilitationRule")
    for role in NEW_ROLES:
        for document_type, (read, write) in DEFAULT_MATRIX[role].items():
            rule.objects.get_or_create(
                role=role,
                document_type=str(document_type),
                defaults={"can_read": read, "can_write": write},
            )


class Migration(migrations.Migration):
    dependencies = [("records", "0004_nurses_read_teleexpertise_opinions")]

    operations = [migrations.RunPython(add_rows, migrations.RunPython.noop)]
