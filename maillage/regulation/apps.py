from django.apps import AppConfig


class RegulationConfig(AppConfig):
    name = "maillage.regulation"
    label = "regulation"
