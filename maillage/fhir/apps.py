from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "maillage.fhir"
    label = "fhir"
