from django.apps import AppConfig


class SmartConfig(AppConfig):
    name = "maillage.smart"
    label = "smart"

    def ready(self) -> None:
        # Connects the audit of issued tokens.
        from maillage.smart import signals  # noqa: F401
