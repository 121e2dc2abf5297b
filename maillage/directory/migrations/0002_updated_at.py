"""When each directory row last changed: the lastUpdated of its FHIR resources."""

from django.db import migrations, models
from django.utils import timezone


def _updated_at() -> models.DateTimeField:
    return models.DateTimeField(auto_now=True, default=timezone.now)


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name=name, name="updated_at", field=_updated_at(), preserve_default=False
        )
        for name in ("structure", "professional", "practice")
    ]
