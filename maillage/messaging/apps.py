from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "maillage.messaging"
    label = "messaging"
