from django.apps import AppConfig


class FrontConfig(AppConfig):
    name = "maillage.front"
    label = "front"
