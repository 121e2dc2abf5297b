from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    name = "maillage.measurements"
    label = "measurements"
    verbose_name = "Mesures"
