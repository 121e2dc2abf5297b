from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "maillage.realtime"
    label = "realtime"
