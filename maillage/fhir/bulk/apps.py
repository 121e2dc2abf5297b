from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "maillage.fhir.bulk"
    label = "fhir_bulk"
    verbose_name = "FHIR bulk export"
