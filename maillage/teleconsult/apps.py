from django.apps import AppConfig


class TeleconsultConfig(AppConfig):
    name = "maillage.teleconsult"
    label = "teleconsult"
    verbose_name = "Téléconsultation"
