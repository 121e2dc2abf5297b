from django.apps import AppConfig


class SmartConfig(AppConfig):
    name = "maillage.smart"
    label = "smart"
