from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "maillage.records"
    label = "records"
