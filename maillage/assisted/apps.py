from django.apps import AppConfig


class AssistedConfig(AppConfig):
    name = "maillage.assisted"
    label = "assisted"
    verbose_name = "Téléconsultation assistée"

    def ready(self) -> None:
        # The room's socket learns the assisted frames here (teleconsult.frames.EXTENSIONS).
        from maillage.assisted import frames

        frames.register()
