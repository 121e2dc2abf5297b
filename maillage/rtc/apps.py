from django.apps import AppConfig


class RtcConfig(AppConfig):
    name = "maillage.rtc"
    label = "rtc"
    verbose_name = "Video room network"

    def ready(self) -> None:
        from maillage.rtc import checks  # noqa: F401 (registers the system check)
