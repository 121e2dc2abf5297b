"""Nurses read tele-expertise opinions by default: they may ask a tele-expertise (STANDARDS.md)."""

from django.db import migrations


def nurses_read_opinions(apps, schema_editor):
    # Existing installations get the new default row; a row an administrator
    # already set for this cell is left as it is.
    rule = apps.get_model("records", "HabilitationRule")
    rule.objects.get_or_create(
        role="nurse",
        document_type="teleexpertise_opinion",
        defaults={"can_read": True, "can_write": False},
    )


class Migration(migrations.Migration):
    dependencies = [("records", "0003_document_loinc_type")]

    operations = [migrations.RunPython(nurses_read_opinions, migrations.RunPython.noop)]
