from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "maillage.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Connects the login/logout audit receivers.
        from maillage.accounts import signals  # noqa: F401
